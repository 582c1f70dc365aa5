package yubihsm

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
)

// Option is a device-wide setting (YubiHSM 2 concepts: Options; SET_OPTION, GET_OPTION).
type Option byte

// Options this package sets.
const (
	// OptionForceAudit: with it on, a command that would be logged is refused with
	// ErrLogFull while the Log Store holds LogSize unreleased entries, instead of
	// overwriting the oldest. Value: one Audit byte.
	OptionForceAudit Option = 0x01
	// OptionCommandAudit says, per command, whether it is logged. Value: pairs of command
	// byte and Audit byte.
	OptionCommandAudit Option = 0x03
)

// Audit is the value of an audit option.
type Audit byte

// Audit values.
const (
	AuditOff Audit = 0x00
	AuditOn  Audit = 0x01
	// AuditFixed is on for good: only a factory reset turns it off.
	AuditFixed Audit = 0x02
)

// SetOption sets an option (SET_OPTION: option (1) | length (2) | value; capability
// set-option).
func (c *Client) SetOption(ctx context.Context, opt Option, value []byte) error {
	msg := binary.BigEndian.AppendUint16([]byte{byte(opt)}, uint16(len(value)))
	out, err := c.do(ctx, CmdSetOption, append(msg, value...))
	if err != nil {
		return err
	}
	if len(out) != 0 {
		return fmt.Errorf("%w: SET_OPTION: %d bytes of data, want none", ErrMalformed, len(out))
	}
	return nil
}

// GetOption reads an option's value (GET_OPTION; capability get-option).
func (c *Client) GetOption(ctx context.Context, opt Option) ([]byte, error) {
	return c.do(ctx, CmdGetOption, []byte{byte(opt)})
}

// SetForceAudit sets OptionForceAudit.
func (c *Client) SetForceAudit(ctx context.Context, a Audit) error {
	return c.SetOption(ctx, OptionForceAudit, []byte{byte(a)})
}

// ForceAudit reads OptionForceAudit.
func (c *Client) ForceAudit(ctx context.Context) (Audit, error) {
	v, err := c.GetOption(ctx, OptionForceAudit)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%w: GET_OPTION force-audit: %d bytes", ErrMalformed, len(v))
	}
	return Audit(v[0]), nil
}

// SetCommandAudit changes OptionCommandAudit for the given commands; others keep theirs.
func (c *Client) SetCommandAudit(ctx context.Context, set map[Command]Audit) error {
	cmds := make([]Command, 0, len(set))
	for cmd := range set {
		cmds = append(cmds, cmd)
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i] < cmds[j] })
	var v []byte
	for _, cmd := range cmds {
		v = append(v, byte(cmd), byte(set[cmd]))
	}
	return c.SetOption(ctx, OptionCommandAudit, v)
}

// CommandAudit reads OptionCommandAudit: the setting of every command that can be logged.
func (c *Client) CommandAudit(ctx context.Context) (map[Command]Audit, error) {
	v, err := c.GetOption(ctx, OptionCommandAudit)
	if err != nil {
		return nil, err
	}
	return ParseCommandAudit(v)
}

// ParseCommandAudit decodes the value of OptionCommandAudit: (command (1) | audit (1))*.
func ParseCommandAudit(v []byte) (map[Command]Audit, error) {
	if len(v)%2 != 0 {
		return nil, fmt.Errorf("%w: command-audit option of %d bytes", ErrMalformed, len(v))
	}
	m := make(map[Command]Audit, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		m[Command(v[i])] = Audit(v[i+1])
	}
	return m, nil
}
