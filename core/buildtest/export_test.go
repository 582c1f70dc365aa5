package buildtest

// BuildC and IsFront export buildC and isFront to the tests.
var (
	BuildC  = buildC
	IsFront = isFront
)
