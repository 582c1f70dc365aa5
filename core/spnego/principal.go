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
	if opts.Keytab != "" {
		// The keytab's principal (the one asked for, or its only one), read from the file.
		kt, err := loadKeytab(opts.Keytab)
		if err != nil {
			return "", &KeytabError{Path: opts.Keytab, Principal: opts.Principal, Source: opts.keytabSource, Err: err}
		}
		name, realm, err := keytabPrincipal(kt, opts.Principal, c.conf.LibDefaults.DefaultRealm)
		if err != nil {
			return "", &KeytabError{Path: opts.Keytab, Principal: opts.Principal, Source: opts.keytabSource, Err: err}
		}
		return name + "@" + realm, nil
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
