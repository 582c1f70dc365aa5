//go:build !linux

package plugins_test

func processReport() string { return "" }

func nonDumpableHost() int { return 1 }

func noProcHost() int { return 1 }
