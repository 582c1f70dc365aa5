package samlidp

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML parses an IdP page. html.Parse accepts any input (it is the HTML5 parsing
// algorithm, which has no parse failures) and decodes entities in attribute values.
func parseHTML(body []byte) *html.Node {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		// Only a failing reader makes html.Parse fail; bytes.Reader does not.
		return &html.Node{Type: html.DocumentNode}
	}
	return doc
}

// extractSAMLResponse returns the value of the page's SAMLResponse field: the
// <input name="SAMLResponse" value="..."> (or <textarea name="SAMLResponse">) of the
// HTTP POST binding form (SAML 2.0 Bindings, section 3.5.4), the first one that is not
// empty. ASCII white space is removed: some IdPs wrap the base64 in lines, and the
// response is passed on exactly as the form would post it, without the white space.
func extractSAMLResponse(doc *html.Node) (string, bool) {
	var found string
	walk(doc, func(n *html.Node) bool {
		if found != "" {
			return false
		}
		if n.Type != html.ElementNode || (n.DataAtom != atom.Input && n.DataAtom != atom.Textarea) {
			return true
		}
		if !strings.EqualFold(attr(n, "name"), "SAMLResponse") {
			return true
		}
		v := attr(n, "value")
		if n.DataAtom == atom.Textarea {
			v = textContent(n)
		}
		found = stripSpace(v)
		return true
	})
	return found, found != ""
}

// stripSpace removes ASCII white space, which base64 ignores and HTML may add.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			return -1
		}
		return r
	}, s)
}

// control is a form control as HTML's form submission algorithm sees it (HTML Living
// Standard, "Constructing the entry list").
type control struct {
	tag          atom.Atom // Input, Button, Select or Textarea
	typ          string    // type, lower case: "text" for an input without one, "submit" for a button
	name, id     string
	value        string
	selected     []string // a select's chosen option values
	checked      bool
	disabled     bool
	autocomplete string
	before       bool // the control comes before the form's first password field
}

// form is a <form> and the controls it owns.
type form struct {
	action    string
	hasAction bool
	method    string // "get" or "post"
	enctype   string
	controls  []*control
}

// parseForms returns the page's forms in document order with their controls. A control
// belongs to the form its form="id" attribute names, else to its form ancestor. A control
// in neither belongs to the nearest form before it that has no controls of its own: that
// is how the parser leaves a <form> written inside a <table> (foster parenting puts the
// form element apart from its fields, which in a browser still belong to it).
func parseForms(doc *html.Node) []*form {
	var forms []*form
	byNode := map[*html.Node]*form{}
	byID := map[string]*form{}
	walk(doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form {
			f := &form{method: "get", enctype: strings.ToLower(strings.TrimSpace(attr(n, "enctype")))}
			f.action, f.hasAction = attrOK(n, "action")
			if strings.EqualFold(strings.TrimSpace(attr(n, "method")), "post") {
				f.method = "post"
			}
			forms = append(forms, f)
			byNode[n] = f
			if id := attr(n, "id"); id != "" && byID[id] == nil {
				byID[id] = f
			}
		}
		return true
	})
	if len(forms) == 0 {
		return nil
	}
	empty := map[*form]bool{}
	for n, f := range byNode {
		empty[f] = !hasControl(n)
	}
	// Iterative, in document order: a page of deeply nested elements must not exhaust the stack.
	type item struct {
		n        *html.Node
		owner    *form
		disabled bool
	}
	var last *form
	stack := []item{{n: doc}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, owner, disabled := it.n, it.owner, it.disabled
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Form:
				owner = byNode[n]
				last = owner
			case atom.Fieldset:
				disabled = disabled || hasAttr(n, "disabled")
			case atom.Input, atom.Button, atom.Select, atom.Textarea:
				f := owner
				if id, ok := attrOK(n, "form"); ok {
					f = byID[id]
				} else if f == nil && last != nil && empty[last] {
					f = last
				}
				if f != nil {
					f.controls = append(f.controls, newControl(n, disabled))
				}
				continue
			case atom.Template, atom.Script, atom.Style:
				continue
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, item{c, owner, disabled})
		}
	}
	for _, f := range forms {
		before := true
		for _, c := range f.controls {
			if c.tag == atom.Input && c.typ == "password" {
				before = false
			}
			c.before = before
		}
	}
	return forms
}

func hasControl(n *html.Node) bool {
	found := false
	walk(n, func(c *html.Node) bool {
		if c != n && c.Type == html.ElementNode {
			switch c.DataAtom {
			case atom.Input, atom.Button, atom.Select, atom.Textarea:
				found = true
			}
		}
		return !found
	})
	return found
}

func newControl(n *html.Node, disabled bool) *control {
	c := &control{
		tag:          n.DataAtom,
		name:         attr(n, "name"),
		id:           attr(n, "id"),
		value:        attr(n, "value"),
		checked:      hasAttr(n, "checked"),
		disabled:     disabled || hasAttr(n, "disabled"),
		autocomplete: strings.ToLower(strings.TrimSpace(attr(n, "autocomplete"))),
		typ:          strings.ToLower(strings.TrimSpace(attr(n, "type"))),
	}
	switch n.DataAtom {
	case atom.Input:
		if c.typ == "" {
			c.typ = "text"
		}
	case atom.Button:
		if c.typ != "button" && c.typ != "reset" {
			c.typ = "submit"
		}
	case atom.Textarea:
		c.typ = "textarea"
		c.value = textContent(n)
	case atom.Select:
		c.typ = "select"
		var first string
		haveFirst := false
		walk(n, func(o *html.Node) bool {
			if o.Type != html.ElementNode || o.DataAtom != atom.Option || hasAttr(o, "disabled") {
				return true
			}
			v, ok := attrOK(o, "value")
			if !ok {
				v = strings.Join(strings.Fields(textContent(o)), " ")
			}
			if !haveFirst {
				first, haveFirst = v, true
			}
			if hasAttr(o, "selected") {
				c.selected = append(c.selected, v)
			}
			return true
		})
		if !hasAttr(n, "multiple") {
			if len(c.selected) > 1 {
				c.selected = c.selected[len(c.selected)-1:]
			}
			if len(c.selected) == 0 && haveFirst {
				c.selected = []string{first}
			}
		}
	}
	return c
}

// textLike reports whether c is a field a person types a name or a code into.
func (c *control) textLike() bool {
	if c.tag != atom.Input {
		return false
	}
	switch c.typ {
	case "text", "email", "tel", "number", "search", "url":
		return true
	}
	return false
}

// usable reports whether c is submitted at all: enabled and named.
func (c *control) usable() bool { return !c.disabled && c.name != "" }

// fieldName is what the heuristics compare: the name, else the id, in lower case.
func (c *control) fieldNames() []string {
	var names []string
	for _, s := range []string{c.name, c.id} {
		if s == "" {
			continue
		}
		s = strings.ToLower(s)
		names = append(names, s)
		// ASP.NET and JSF qualify names: ctl00$Main$UserName, loginForm:username.
		if i := strings.LastIndexAny(s, "$:."); i >= 0 && i+1 < len(s) {
			names = append(names, s[i+1:])
		}
	}
	return names
}

// usernameNames are field names (compared in lower case) that hold the username: the
// common one, ADFS (UserName), Shibboleth and other Java servlets (j_username),
// Microsoft (loginfmt), PingFederate (pf.username), and generic ones.
var usernameNames = []string{
	"username", "user", "user_name", "userid", "user_id", "login", "login_name", "loginname",
	"email", "emailaddress", "email_address", "loginfmt", "j_username", "pf.username", "uid", "identifier",
}

// usernameHints are parts of field names that suggest a username field.
var usernameHints = []string{"user", "login", "email", "mail", "account"}

// otpNames and otpHints find the field of a one-time code page.
var (
	otpNames = []string{"otp", "code", "passcode", "totp", "token", "mfa", "verificationcode", "answer", "pin", "one-time-code"}
	otpHints = []string{"otp", "code", "token", "mfa", "2fa", "factor", "verif"}
)

// findLoginForm returns the page's login form, the first form with an enabled, named
// <input type="password">, with that field and the username field (nil when the form has
// none, e.g. when the username is already in a hidden field).
//
// The username field is the first enabled, named text-like input (type text, email, tel,
// number, search or url) of the form that matches, in this order of preference:
//  1. a name or id in usernameNames (case-insensitive, also after an ASP.NET "$" or JSF
//     ":" qualifier): username, user, UserName (ADFS), j_username (Shibboleth), loginfmt
//     (Microsoft), login, email, pf.username (PingFederate)...;
//  2. autocomplete="username" or "email";
//  3. a name or id containing user, login, email, mail or account;
//  4. type="email";
//  5. the last text-like input before the password field (what password managers use).
func findLoginForm(forms []*form) (f *form, user, pw *control) {
	for _, f := range forms {
		for _, c := range f.controls {
			if c.tag == atom.Input && c.typ == "password" && c.usable() {
				return f, usernameField(f, c), c
			}
		}
	}
	return nil, nil, nil
}

func usernameField(f *form, pw *control) *control {
	var cands []*control
	for _, c := range f.controls {
		if c != pw && c.textLike() && c.usable() {
			cands = append(cands, c)
		}
	}
	rules := []func(c *control) bool{
		func(c *control) bool { return anyIn(c.fieldNames(), usernameNames) },
		func(c *control) bool { return c.autocomplete == "username" || c.autocomplete == "email" },
		func(c *control) bool { return anyContains(c.fieldNames(), usernameHints) },
		func(c *control) bool { return c.typ == "email" },
	}
	for _, rule := range rules {
		for _, c := range cands {
			if rule(c) {
				return c
			}
		}
	}
	var last *control
	for _, c := range cands {
		if c.before {
			last = c
		}
	}
	return last
}

// findIdentifierForm returns the first form without a password field that asks only for
// the username (an identifier-first login: the password comes on the next page), by
// rules 1 and 2 of findLoginForm, with every other text-like field already filled.
func findIdentifierForm(forms []*form) (*form, *control) {
	for _, f := range forms {
		if hasPassword(f) {
			continue
		}
		var user *control
		others := false
		for _, c := range f.controls {
			if !c.textLike() || !c.usable() {
				continue
			}
			if user == nil && (anyIn(c.fieldNames(), usernameNames) || c.autocomplete == "username" || c.autocomplete == "email") {
				user = c
			} else if c.value == "" {
				others = true
			}
		}
		if user != nil && !others {
			return f, user
		}
	}
	return nil, nil
}

// findCodeForm returns the first form without a password field whose one empty text-like
// field asks for a one-time code: autocomplete="one-time-code", a name or id in otpNames,
// or one containing otp, code, token, mfa, 2fa, factor or verif.
func findCodeForm(forms []*form) (*form, *control) {
	for _, f := range forms {
		if hasPassword(f) {
			continue
		}
		var code *control
		others := false
		for _, c := range f.controls {
			if !c.textLike() || !c.usable() {
				continue
			}
			if code == nil && (c.autocomplete == "one-time-code" || anyIn(c.fieldNames(), otpNames) || anyContains(c.fieldNames(), otpHints)) {
				code = c
			} else if c.value == "" {
				others = true
			}
		}
		if code != nil && !others {
			return f, code
		}
	}
	return nil, nil
}

// findAutoSubmitForm returns a form awskeep can submit as it is: no password field and no
// empty text field (an intermediate page such as Shibboleth's "Loading session
// information" or a SAMLRequest POST binding form, submitted by script in a browser).
// Forms with hidden fields come first.
func findAutoSubmitForm(forms []*form) *form {
	var plain *form
	for _, f := range forms {
		if hasPassword(f) {
			continue
		}
		ok, hidden := true, false
		for _, c := range f.controls {
			if !c.usable() {
				continue
			}
			if (c.textLike() || c.typ == "textarea") && c.value == "" {
				ok = false
			}
			if c.tag == atom.Input && c.typ == "hidden" {
				hidden = true
			}
		}
		if !ok {
			continue
		}
		if hidden {
			return f
		}
		if plain == nil {
			plain = f
		}
	}
	return plain
}

func hasPassword(f *form) bool {
	for _, c := range f.controls {
		if c.tag == atom.Input && c.typ == "password" && c.usable() {
			return true
		}
	}
	return false
}

func anyIn(names, list []string) bool {
	for _, n := range names {
		for _, l := range list {
			if n == l {
				return true
			}
		}
	}
	return false
}

func anyContains(names, parts []string) bool {
	for _, n := range names {
		for _, p := range parts {
			if strings.Contains(n, p) {
				return true
			}
		}
	}
	return false
}

// field is one name=value pair of a form submission.
type field struct{ name, value string }

// entries builds the form's entry list (HTML Living Standard, "Constructing the entry
// list"): enabled named controls in tree order; checkboxes and radios only when checked;
// buttons only as the submitter, which is the form's first submit button (implicit
// submission, as pressing Enter does). fill replaces the values of the given controls.
func (f *form) entries(fill map[*control]string) []field {
	var out []field
	submitted := false
	for _, c := range f.controls {
		if !c.usable() {
			continue
		}
		if v, ok := fill[c]; ok {
			out = append(out, field{c.name, v})
			continue
		}
		switch c.typ {
		case "submit", "image":
			if submitted {
				continue
			}
			submitted = true
			if c.typ == "image" {
				out = append(out, field{c.name + ".x", "0"}, field{c.name + ".y", "0"})
			} else {
				out = append(out, field{c.name, c.value})
			}
		case "button", "reset", "file":
		case "checkbox", "radio":
			if c.checked {
				v := c.value
				if v == "" {
					v = "on"
				}
				out = append(out, field{c.name, v})
			}
		case "select":
			for _, v := range c.selected {
				out = append(out, field{c.name, v})
			}
		default:
			out = append(out, field{c.name, c.value})
		}
	}
	return out
}

// submission is the request a form's submission makes.
type submission struct {
	method      string
	url         *url.URL
	body        string
	contentType string
}

// submit resolves the form's action against the page's URL (no action: the page's own
// URL) and encodes its entries as the form's method and enctype say: GET puts them in the
// query, POST in an application/x-www-form-urlencoded or multipart/form-data body.
func (f *form) submit(page *url.URL, fill map[*control]string) (submission, error) {
	target := page
	if f.hasAction && strings.TrimSpace(f.action) != "" {
		u, err := resolve(page, f.action)
		if err != nil {
			return submission{}, err
		}
		target = u
	}
	t := *target
	t.Fragment, t.RawFragment = "", ""
	entries := f.entries(fill)
	if f.method != "post" {
		t.RawQuery = urlencode(entries)
		return submission{method: "GET", url: &t}, nil
	}
	if f.enctype == "multipart/form-data" {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, e := range entries {
			if err := w.WriteField(e.name, e.value); err != nil {
				return submission{}, err
			}
		}
		if err := w.Close(); err != nil {
			return submission{}, err
		}
		return submission{method: "POST", url: &t, body: b.String(), contentType: w.FormDataContentType()}, nil
	}
	return submission{method: "POST", url: &t, body: urlencode(entries), contentType: "application/x-www-form-urlencoded"}, nil
}

func urlencode(entries []field) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(e.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(e.value))
	}
	return b.String()
}

// errorText returns the first visible error message of a page, as IdPs show a refused
// login: an element with role="alert", or whose id or class contains "error" or "alert"
// (ADFS #errorText, Shibboleth .form-error, Keycloak #input-error, SimpleSAMLphp
// .message-box.error). Elements hidden by the hidden attribute, aria-hidden or an inline
// display:none are skipped. White space is collapsed; the caller scrubs and caps it.
func errorText(doc *html.Node) string {
	var text string
	walk(doc, func(n *html.Node) bool {
		if text != "" {
			return false
		}
		if n.Type != html.ElementNode {
			return true
		}
		switch n.DataAtom {
		case atom.Head, atom.Script, atom.Style, atom.Template, atom.Noscript:
			return false
		}
		if hiddenElement(n) {
			return false
		}
		role := strings.ToLower(attr(n, "role"))
		marks := strings.ToLower(attr(n, "id") + " " + attr(n, "class"))
		if role == "alert" || role == "alertdialog" || strings.Contains(marks, "error") || strings.Contains(marks, "alert") {
			if t := visibleText(n); t != "" {
				text = t
				return false
			}
		}
		return true
	})
	return text
}

func hiddenElement(n *html.Node) bool {
	if hasAttr(n, "hidden") || strings.EqualFold(attr(n, "aria-hidden"), "true") {
		return true
	}
	if n.DataAtom == atom.Input && strings.EqualFold(attr(n, "type"), "hidden") {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(attr(n, "style")), ""))
	return strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden")
}

// visibleText is n's text without scripts, styles and hidden elements, white space collapsed.
func visibleText(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		switch c.Type {
		case html.TextNode:
			b.WriteString(c.Data)
			b.WriteByte(' ')
		case html.ElementNode:
			switch c.DataAtom {
			case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Select, atom.Textarea:
				return false
			}
			if c != n && hiddenElement(c) {
				return false
			}
		}
		return true
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// title is the text of the page's first <title>.
func title(doc *html.Node) string {
	var t string
	found := false
	walk(doc, func(n *html.Node) bool {
		if found {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			t, found = strings.Join(strings.Fields(textContent(n)), " "), true
			return false
		}
		return true
	})
	return t
}

// walk calls fn on n and its descendants in document order; fn returning false skips the
// node's children. Iterative: a page of a million nested elements must not exhaust the stack.
func walk(n *html.Node, fn func(*html.Node) bool) {
	stack := []*html.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(n) {
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

func textContent(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return true
	})
	return b.String()
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attrOK(n, key)
	return ok
}

// body is the page's <body>, or doc when it has none.
func body(doc *html.Node) *html.Node {
	var b *html.Node
	walk(doc, func(n *html.Node) bool {
		if b != nil {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Body {
			b = n
			return false
		}
		return true
	})
	if b == nil {
		return doc
	}
	return b
}
