// Package pluginhost finds, checks and starts awskeep plugins for the host: the plugin
// search path of DESIGN.md, the refusal of binaries others could have changed, checksum
// pins, and the confirmation (through Info) that a plugin serves the scheme it was started
// for and speaks protocol 1.
package pluginhost
