package buildtest

// BuildC and DevDefines export buildC and devDefines to the tests.
var (
	BuildC     = buildC
	DevDefines = devDefines
	IsFront    = isFront
)
