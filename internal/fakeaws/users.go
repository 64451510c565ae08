package fakeaws

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User is an IAM user in the fake account.
type User struct {
	// Name is the user name (unique in the account).
	Name string
	// Path is the user's path; default "/".
	Path string
	// LoginProfile says whether the user has a console password.
	LoginProfile bool
	// MFADevices is the number of (virtual) MFA devices assigned.
	MFADevices int
	// PasswordLastUsed is when the console password was last used; zero
	// means never (GetUser then omits PasswordLastUsed).
	PasswordLastUsed time.Time
	// Created is the user's creation time; default Now().
	Created time.Time
	// PasswordCreated is when the current console password was set, which
	// is the login profile's CreateDate and the credential report's
	// password_last_changed; default Now(). Create/UpdateLoginProfile with a
	// new password move it to the time of the call.
	PasswordCreated time.Time
}

// LoginProfile is a user's console password as last set through the API.
type LoginProfile struct {
	// Password is the password the last CreateLoginProfile or
	// UpdateLoginProfile set; "" if the profile came from AddUser.
	Password string
	// PasswordResetRequired is whether the user must choose a new password
	// at the next sign-in.
	PasswordResetRequired bool
	// CreateDate is when the password was set (User.PasswordCreated).
	CreateDate time.Time
}

// user is the fake's state for one user.
type user struct {
	User
	account string // the ID of the account it lives in
	profile LoginProfile
	history []string // passwords set through the API, oldest first
}

// AddUser adds u to the account, replacing any user of the same name.
func (s *Server) AddUser(u User) {
	now := s.now()
	if u.Path == "" {
		u.Path = "/"
	}
	if u.Created.IsZero() {
		u.Created = now
	}
	if u.PasswordCreated.IsZero() {
		u.PasswordCreated = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Name] = &user{User: u, account: s.accountID, profile: LoginProfile{CreateDate: u.PasswordCreated}}
}

// User returns the named user as it is now.
func (s *Server) User(name string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return User{}, false
	}
	return u.User, true
}

// LoginProfile returns the user's console password as the last
// CreateLoginProfile or UpdateLoginProfile set it; false if the user does not
// exist or has no login profile.
func (s *Server) LoginProfile(name string) (LoginProfile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok || !u.LoginProfile {
		return LoginProfile{}, false
	}
	return u.profile, true
}

// SetPasswordLastUsed records a console sign-in by the user at t. It does
// nothing if there is no such user.
func (s *Server) SetPasswordLastUsed(name string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[name]; ok {
		u.PasswordLastUsed = t
	}
}

// userID is a stable, IAM-shaped unique ID for a user name: "AIDA" and 17
// upper-case alphanumerics.
func userID(name string) string {
	sum := sha256.Sum256([]byte(AccountID + "/" + name))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func (u *user) arn() string { return accountUserARN(u.account, u.Path, u.Name) }

func (u *user) xml() userXML {
	x := userXML{
		Path:       u.Path,
		UserName:   u.Name,
		UserId:     userID(u.Name),
		Arn:        u.arn(),
		CreateDate: isoTime(u.Created),
	}
	if !u.PasswordLastUsed.IsZero() {
		x.PasswordLastUsed = isoTime(u.PasswordLastUsed)
	}
	return x
}

func noSuchUser(name string) *apiError {
	return apiErr("NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name))
}

// targetUser is the user a request names in UserName, or the caller when it
// names none (as IAM does for GetUser, ListMFADevices and the login-profile
// actions). s.mu must be held.
func (s *Server) targetUser(req *request) (*user, *apiError) {
	name := req.params.Get("UserName")
	if name == "" {
		name = BotUserName
	}
	u, ok := s.users[name]
	if !ok {
		return nil, noSuchUser(name)
	}
	return u, nil
}

func (s *Server) getUser(req *request) (any, *apiError) {
	u, e := s.targetUser(req)
	if e != nil {
		return nil, e
	}
	return struct {
		User userXML `xml:"User"`
	}{u.xml()}, nil
}

func (s *Server) listUsers(req *request) (any, *apiError) {
	prefix := req.params.Get("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	var names []string
	for name, u := range s.users {
		if strings.HasPrefix(u.Path, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	page, marker, e := paginate(req, names)
	if e != nil {
		return nil, e
	}
	var out struct {
		Users       members[userXML] `xml:"Users"`
		IsTruncated bool             `xml:"IsTruncated"`
		Marker      string           `xml:"Marker,omitempty"`
	}
	for _, name := range page {
		out.Users.Member = append(out.Users.Member, s.users[name].xml())
	}
	out.IsTruncated, out.Marker = marker != "", marker
	return out, nil
}

// paginate applies MaxItems (default 100, 1..1000) and Marker (the next
// item's key) to sorted keys.
func paginate(req *request, keys []string) (page []string, next string, e *apiError) {
	max := 100
	if v := req.params.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "", apiErr("ValidationError", "1 validation error detected: Value '"+v+"' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
		}
		max = n
	}
	start := 0
	if m := req.params.Get("Marker"); m != "" {
		i, found := slices.BinarySearch(keys, m)
		if !found {
			return nil, "", apiErr("InvalidInput", "Invalid Marker.")
		}
		start = i
	}
	end := min(start+max, len(keys))
	if end < len(keys) {
		next = keys[end]
	}
	return keys[start:end], next, nil
}

func profileXML(u *user) any {
	return struct {
		LoginProfile loginProfileXML `xml:"LoginProfile"`
	}{loginProfileXML{
		UserName:              u.Name,
		CreateDate:            isoTime(u.profile.CreateDate),
		PasswordResetRequired: u.profile.PasswordResetRequired,
	}}
}

func (s *Server) getLoginProfile(req *request) (any, *apiError) {
	u, e := s.targetUser(req)
	if e != nil {
		return nil, e
	}
	if !u.LoginProfile {
		return nil, apiErr("NoSuchEntity", fmt.Sprintf("Login Profile for User %s cannot be found.", u.Name))
	}
	return profileXML(u), nil
}

func (s *Server) createLoginProfile(req *request) (any, *apiError) {
	u, e := s.targetUser(req)
	if e != nil {
		return nil, e
	}
	if u.LoginProfile {
		return nil, apiErr("EntityAlreadyExists", fmt.Sprintf("Login Profile for user %s already exists.", u.Name))
	}
	password, ok := req.params["Password"]
	if !ok {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	reset, e := boolParam(req, "PasswordResetRequired", false)
	if e != nil {
		return nil, e
	}
	if e := s.checkPassword(u, password[0]); e != nil {
		return nil, e
	}
	u.setPassword(password[0], reset, s.now())
	return profileXML(u), nil
}

func (s *Server) updateLoginProfile(req *request) (any, *apiError) {
	if req.params.Get("UserName") == "" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	u, e := s.targetUser(req)
	if e != nil {
		return nil, e
	}
	if !u.LoginProfile {
		return nil, apiErr("NoSuchEntity", fmt.Sprintf("Login Profile for User %s cannot be found.", u.Name))
	}
	reset, e := boolParam(req, "PasswordResetRequired", u.profile.PasswordResetRequired)
	if e != nil {
		return nil, e
	}
	password, ok := req.params["Password"]
	if !ok {
		// Only the reset flag changes.
		u.profile.PasswordResetRequired = reset
		return nil, nil
	}
	if e := s.checkPassword(u, password[0]); e != nil {
		return nil, e
	}
	u.setPassword(password[0], reset, s.now())
	return nil, nil
}

// setPassword installs a new console password.
func (u *user) setPassword(password string, reset bool, now time.Time) {
	u.LoginProfile = true
	u.PasswordCreated = now
	u.profile = LoginProfile{Password: password, PasswordResetRequired: reset, CreateDate: now}
	u.history = append(u.history, password)
	if len(u.history) > maxReusePrevention {
		u.history = u.history[len(u.history)-maxReusePrevention:]
	}
}

func boolParam(req *request, name string, def bool) (bool, *apiError) {
	v, ok := req.params[name]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(v[0])
	if err != nil {
		return false, apiErr("ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", v[0], name))
	}
	return b, nil
}

func (s *Server) listMFADevices(req *request) (any, *apiError) {
	u, e := s.targetUser(req)
	if e != nil {
		return nil, e
	}
	var out struct {
		MFADevices  members[mfaDeviceXML] `xml:"MFADevices"`
		IsTruncated bool                  `xml:"IsTruncated"`
	}
	for i := range u.MFADevices {
		serial := "arn:aws:iam::" + s.accountID + ":mfa/" + u.Name
		if i > 0 {
			serial += "-" + strconv.Itoa(i+1)
		}
		out.MFADevices.Member = append(out.MFADevices.Member, mfaDeviceXML{
			UserName:     u.Name,
			SerialNumber: serial,
			EnableDate:   isoTime(u.Created),
		})
	}
	return out, nil
}

func (s *Server) listAccountAliases(*request) (any, *apiError) {
	var out struct {
		AccountAliases members[string] `xml:"AccountAliases"`
		IsTruncated    bool            `xml:"IsTruncated"`
	}
	if s.alias != "" {
		out.AccountAliases.Member = []string{s.alias}
	}
	return out, nil
}

func (s *Server) getCallerIdentity(req *request) (any, *apiError) {
	out := struct {
		Arn     string `xml:"Arn"`
		UserId  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{callerARN, userID(BotUserName), AccountID}
	if k := req.key; k != nil {
		out.Arn, out.UserId, out.Account = k.assumedARN(), k.roleID+":"+k.session, k.account.accountID
	}
	return out, nil
}
