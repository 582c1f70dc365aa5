package spnego

// Principal returns the client principal (alice@REALM) of the ticket cache opts name, or
// of the keytab login opts describe, without contacting the KDC. A credential cache keyed by
// it cannot hand one principal's credentials to another after kdestroy and a new kinit.
func Principal(opts Options) (string, error) {
	opts.setDefaults()
	c, err := loadConfig(&opts)
	if err != nil {
		return "", err
	}
	if opts.Keytab != "" && opts.Principal != "" {
		return opts.Principal, nil
	}
	name := resolveCCache(&opts, c)
	path, err := ccachePath(name)
	if err != nil {
		return "", err
	}
	b, err := readFile(path, maxCCache)
	if err != nil {
		return "", &TicketError{Kind: ErrNoTicket, CCache: name.name, Source: name.source}
	}
	cc, err := parseCCache(b)
	if err != nil {
		return "", &TicketError{Kind: ErrNoTicket, CCache: name.name, Source: name.source, Err: err}
	}
	return cc.GetClientPrincipalName().PrincipalNameString() + "@" + cc.GetClientRealm(), nil
}
