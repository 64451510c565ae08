package fakeaws

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestGetUser(t *testing.T) {
	clock := newClock()
	s := start(t, Options{Now: clock.Now})
	created := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	used := time.Date(2024, 4, 30, 8, 0, 0, 0, time.UTC)
	s.AddUser(User{Name: "alice", Path: "/staff/", LoginProfile: true, Created: created})
	s.SetPasswordLastUsed("alice", used)
	s.AddUser(User{Name: "bob"})

	tests := []struct {
		name         string
		in           *string
		wantName     string
		wantArn      string
		wantCreated  time.Time
		wantLastUsed *time.Time
	}{
		{"caller", nil, BotUserName, "arn:aws:iam::123456789012:user/aws-reset-bot", clock.Now(), nil},
		{"with path and last use", aws.String("alice"), "alice", "arn:aws:iam::123456789012:user/staff/alice", created, &used},
		{"never signed in", aws.String("bob"), "bob", "arn:aws:iam::123456789012:user/bob", clock.Now(), nil},
	}
	c := iamClient(s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.GetUser(t.Context(), &iam.GetUserInput{UserName: tt.in})
			if err != nil {
				t.Fatalf("GetUser(%v): %v", aws.ToString(tt.in), err)
			}
			u := out.User
			if aws.ToString(u.UserName) != tt.wantName || aws.ToString(u.Arn) != tt.wantArn {
				t.Errorf("GetUser = %s %s; want %s %s", aws.ToString(u.UserName), aws.ToString(u.Arn), tt.wantName, tt.wantArn)
			}
			if got := aws.ToTime(u.CreateDate); !got.Equal(tt.wantCreated) {
				t.Errorf("CreateDate = %v; want %v", got, tt.wantCreated)
			}
			if aws.ToString(u.UserId) != userID(tt.wantName) {
				t.Errorf("UserId = %q; want %q", aws.ToString(u.UserId), userID(tt.wantName))
			}
			switch {
			case tt.wantLastUsed == nil && u.PasswordLastUsed != nil:
				t.Errorf("PasswordLastUsed = %v; want none", *u.PasswordLastUsed)
			case tt.wantLastUsed != nil && (u.PasswordLastUsed == nil || !u.PasswordLastUsed.Equal(*tt.wantLastUsed)):
				t.Errorf("PasswordLastUsed = %v; want %v", u.PasswordLastUsed, *tt.wantLastUsed)
			}
		})
	}

	_, err := iamClient(s, noRetry).GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("nobody")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Errorf("GetUser(nobody) = %v (status %d); want NoSuchEntityException 404", err, httpStatus(err))
	}
}

func TestListUsers(t *testing.T) {
	s := start(t, Options{})
	for _, u := range []User{{Name: "carol", Path: "/staff/"}, {Name: "alice", Path: "/staff/"}, {Name: "bob"}} {
		s.AddUser(u)
	}
	c := iamClient(s)

	var names []string
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListUsers page %d: %v", pages, err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	want := []string{"alice", "aws-reset-bot", "bob", "carol"}
	if pages != 2 || !equal(names, want) {
		t.Errorf("ListUsers over %d pages = %v; want %v over 2", pages, names, want)
	}

	out, err := c.ListUsers(t.Context(), &iam.ListUsersInput{PathPrefix: aws.String("/staff/")})
	if err != nil {
		t.Fatalf("ListUsers(/staff/): %v", err)
	}
	if len(out.Users) != 2 || out.IsTruncated {
		t.Errorf("ListUsers(/staff/) = %d users, truncated %v; want 2, false", len(out.Users), out.IsTruncated)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoginProfiles(t *testing.T) {
	clock := newClock()
	s := start(t, Options{Now: clock.Now})
	s.AddUser(User{Name: "alice"})
	s.AddUser(User{Name: "bob", LoginProfile: true, PasswordCreated: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	c := iamClient(s, noRetry)
	ctx := t.Context()

	// A user without a console password.
	_, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Fatalf("GetLoginProfile(alice) = %v; want NoSuchEntityException 404", err)
	}
	_, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz")})
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Fatalf("UpdateLoginProfile(alice) without a profile = %v; want NoSuchEntityException 404", err)
	}

	created, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz"), PasswordResetRequired: true})
	if err != nil {
		t.Fatalf("CreateLoginProfile(alice): %v", err)
	}
	if lp := created.LoginProfile; aws.ToString(lp.UserName) != "alice" || !lp.PasswordResetRequired || !aws.ToTime(lp.CreateDate).Equal(clock.Now()) {
		t.Errorf("CreateLoginProfile = %+v; want alice, reset, created now", lp)
	}
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) || httpStatus(err) != 409 {
		t.Errorf("second CreateLoginProfile = %v; want EntityAlreadyExistsException 409", err)
	}

	// bob's profile came from AddUser: GetLoginProfile shows its date.
	got, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatalf("GetLoginProfile(bob): %v", err)
	}
	if !aws.ToTime(got.LoginProfile.CreateDate).Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("GetLoginProfile(bob) CreateDate = %v; want 2023-01-01", got.LoginProfile.CreateDate)
	}

	clock.Advance(time.Hour)
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{
		UserName: aws.String("bob"), Password: aws.String("N3w-Passw0rd!"), PasswordResetRequired: aws.Bool(true),
	}); err != nil {
		t.Fatalf("UpdateLoginProfile(bob): %v", err)
	}
	lp, ok := s.LoginProfile("bob")
	if !ok || lp.Password != "N3w-Passw0rd!" || !lp.PasswordResetRequired || !lp.CreateDate.Equal(clock.Now()) {
		t.Errorf("LoginProfile(bob) = %+v, %v; want the new password, reset required, set now", lp, ok)
	}
	if u, _ := s.User("bob"); !u.PasswordCreated.Equal(clock.Now()) {
		t.Errorf("User(bob).PasswordCreated = %v; want %v", u.PasswordCreated, clock.Now())
	}

	// Only the flag.
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), PasswordResetRequired: aws.Bool(false)}); err != nil {
		t.Fatalf("UpdateLoginProfile(bob, reset=false): %v", err)
	}
	if lp, _ := s.LoginProfile("bob"); lp.Password != "N3w-Passw0rd!" || lp.PasswordResetRequired {
		t.Errorf("LoginProfile(bob) = %+v; want the same password, no reset", lp)
	}

	_, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("Abcdefgh1!xyz")})
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Errorf("UpdateLoginProfile(nobody) = %v; want NoSuchEntityException 404", err)
	}
	if _, ok := s.LoginProfile("nobody"); ok {
		t.Error("LoginProfile(nobody) found")
	}
}

func TestListMFADevicesAndAliases(t *testing.T) {
	s := start(t, Options{AccountAlias: "acme-prod"})
	s.AddUser(User{Name: "alice", MFADevices: 2})
	c := iamClient(s)

	tests := []struct {
		user string
		want []string
	}{
		{"alice", []string{"arn:aws:iam::123456789012:mfa/alice", "arn:aws:iam::123456789012:mfa/alice-2"}},
		{"", nil}, // the caller has none
	}
	for _, tt := range tests {
		in := &iam.ListMFADevicesInput{}
		if tt.user != "" {
			in.UserName = aws.String(tt.user)
		}
		out, err := c.ListMFADevices(t.Context(), in)
		if err != nil {
			t.Fatalf("ListMFADevices(%q): %v", tt.user, err)
		}
		var got []string
		for _, d := range out.MFADevices {
			got = append(got, aws.ToString(d.SerialNumber))
		}
		if !equal(got, tt.want) || out.IsTruncated {
			t.Errorf("ListMFADevices(%q) = %v; want %v", tt.user, got, tt.want)
		}
	}

	out, err := c.ListAccountAliases(t.Context(), &iam.ListAccountAliasesInput{})
	if err != nil || !equal(out.AccountAliases, []string{"acme-prod"}) {
		t.Errorf("ListAccountAliases = %v, %v; want [acme-prod]", out, err)
	}
	none := start(t, Options{})
	out, err = iamClient(none).ListAccountAliases(t.Context(), &iam.ListAccountAliasesInput{})
	if err != nil || len(out.AccountAliases) != 0 {
		t.Errorf("ListAccountAliases without alias = %v, %v; want none", out, err)
	}
}
