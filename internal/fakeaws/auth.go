package fakeaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// sigV4Auth is a parsed SigV4 Authorization header.
type sigV4Auth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=AKID/20240101/
// us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=...".
func parseAuthorization(h string) (sigV4Auth, bool) {
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return sigV4Auth{}, false
	}
	var a sigV4Auth
	var credential string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigV4Auth{}, false
		}
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || len(a.signedHeaders) == 0 || a.signature == "" {
		return sigV4Auth{}, false
	}
	a.keyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	return a, true
}

// credentialKeyID is the access key ID in an Authorization header, "" if
// there is none.
func credentialKeyID(h string) string {
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(cred, "/")
	return id
}

// authenticate checks the request's SigV4 signature the way AWS does: it
// rebuilds the canonical request from the headers the client says it signed
// and compares signatures. The credential scope's region and service are
// taken as given (the SDK signs with the client's region), and the clock skew
// is not checked, so tests may run on a fake clock.
func (s *Server) authenticate(r *http.Request, body []byte, req *request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return apiErr("MissingAuthenticationToken", knownErrors["MissingAuthenticationToken"].message)
	}
	a, ok := parseAuthorization(h)
	if !ok {
		return apiErr("IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters in the form AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=....")
	}
	secret := SecretAccessKey
	if a.keyID != AccessKeyID {
		k, e := s.issuedKey(a.keyID, r.Header.Get("X-Amz-Security-Token"))
		req.key = k
		if e != nil {
			return e
		}
		secret = k.secret
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" || !strings.HasPrefix(amzDate, a.date) {
		return apiErr("IncompleteSignature", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.")
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	canonical := canonicalRequest(r, a.signedHeaders, payloadHash)
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	crHash := sha256.Sum256([]byte(canonical))
	stringToSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])

	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return apiErr("SignatureDoesNotMatch", knownErrors["SignatureDoesNotMatch"].message)
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest is SigV4's canonical form of r.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Every service but S3 escapes the already-escaped path once more.
	b.WriteString(escapePath(path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value. Go's server moves Host
// (and may move Content-Length) out of the header map.
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		return strconv.FormatInt(r.ContentLength, 10)
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

func escapePath(p string) string { return uriEncode(p, false) }

// uriEncode is SigV4's URI encoding: every byte but the unreserved characters
// is percent-encoded; '/' too when encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
