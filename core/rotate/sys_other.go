//go:build !unix

package rotate

const oNoFollow = 0
