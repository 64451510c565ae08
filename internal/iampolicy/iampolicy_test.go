package iampolicy

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/types"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/aws-reset-bot/aws-reset-bot/internal/botsource"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

func listed(names ...string) config.Config {
	cfg := config.Default()
	for i, n := range names {
		cfg.Users = append(cfg.Users, config.User{SlackUser: "U0000000" + string(rune('A'+i)), IAMUser: n})
	}
	return cfg
}

// parsed is the policy as IAM reads it, decoded from the JSON text.
type parsed struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource []string
	}
}

func parse(t *testing.T, d Document) parsed {
	t.Helper()
	b, err := d.JSON()
	if err != nil {
		t.Fatalf("JSON() error: %v", err)
	}
	var p parsed
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("policy does not parse as JSON: %v\n%s", err, b)
	}
	return p
}

func TestBuild(t *testing.T) {
	protected := listed("jsmith", "breakglass", "alee")
	protected.Reset.Protected = []string{"BreakGlass", "/admin/"}
	rootProtected := listed("jsmith")
	rootProtected.Reset.Protected = []string{"/"}

	tests := []struct {
		name             string
		cfg              config.Config
		account, part    string
		wantUsers        []string // ResetListedUsers resources; nil = no such statement
		wantAccountInARN string
	}{
		{
			name: "placeholder account", cfg: listed("jsmith", "alee"),
			wantUsers: []string{"arn:aws:iam::ACCOUNT_ID:user/alee", "arn:aws:iam::ACCOUNT_ID:user/jsmith"},
		},
		{
			name: "account and partition", cfg: listed("jsmith"), account: "123456789012", part: "aws-us-gov",
			wantUsers: []string{"arn:aws-us-gov:iam::123456789012:user/jsmith"},
		},
		{
			name: "names IAM allows", cfg: listed("first.last@example.com", "a+b=c,d_e-f"), account: "123456789012",
			wantUsers: []string{"arn:aws:iam::123456789012:user/a+b=c,d_e-f", "arn:aws:iam::123456789012:user/first.last@example.com"},
		},
		{
			name: "protected names left out", cfg: protected, account: "123456789012",
			wantUsers: []string{"arn:aws:iam::123456789012:user/alee", "arn:aws:iam::123456789012:user/jsmith"},
		},
		{name: "root path protected", cfg: rootProtected, account: "123456789012", wantUsers: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, Build(tt.cfg, tt.account, tt.part))
			if p.Version != "2012-10-17" {
				t.Errorf("Version = %q; want 2012-10-17", p.Version)
			}
			sids := map[string]int{}
			for i, s := range p.Statement {
				sids[s.Sid] = i
				if s.Effect != "Allow" {
					t.Errorf("statement %s: Effect = %q; want Allow", s.Sid, s.Effect)
				}
			}

			read, ok := sids["ReadAccount"]
			if !ok {
				t.Fatalf("no ReadAccount statement in %+v", p.Statement)
			}
			if got, want := p.Statement[read].Action, []string{"iam:GetAccountPasswordPolicy", "iam:ListAccountAliases"}; !slices.Equal(got, want) {
				t.Errorf("ReadAccount actions = %q; want %q", got, want)
			}
			if got := p.Statement[read].Resource; !slices.Equal(got, []string{"*"}) {
				t.Errorf("ReadAccount resources = %q; want [*]: these actions take no resource", got)
			}

			reset, ok := sids["ResetListedUsers"]
			if tt.wantUsers == nil {
				if ok {
					t.Errorf("ResetListedUsers = %+v; want no statement: every listed user is protected", p.Statement[reset])
				}
				return
			}
			if !ok {
				t.Fatalf("no ResetListedUsers statement in %+v", p.Statement)
			}
			s := p.Statement[reset]
			if want := []string{"iam:GetLoginProfile", "iam:GetUser", "iam:ListMFADevices", "iam:UpdateLoginProfile"}; !slices.Equal(s.Action, want) {
				t.Errorf("ResetListedUsers actions = %q; want %q", s.Action, want)
			}
			if !slices.Equal(s.Resource, tt.wantUsers) {
				t.Errorf("ResetListedUsers resources = %q; want %q", s.Resource, tt.wantUsers)
			}
			for _, r := range s.Resource {
				if strings.ContainsAny(r, "*?") {
					t.Errorf("user resource %q has a wildcard; want exact ARNs", r)
				}
			}
		})
	}
}

// TestEveryActionInPolicy checks that each action the code calls is
// allowed, in the statement its resource kind names, and nothing else is.
func TestEveryActionInPolicy(t *testing.T) {
	cfg := listed("jsmith")
	cfg.Reminders.Enabled = true // so the actions only reminders call are in too
	p := parse(t, Build(cfg, "123456789012", "aws"))
	allowed := map[string]string{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			if prev, dup := allowed[a]; dup {
				t.Errorf("%s is in both %s and %s", a, prev, s.Sid)
			}
			allowed[a] = s.Sid
		}
	}
	for _, a := range Actions() {
		if got := allowed[a.Name]; got != a.Resource.Sid() {
			t.Errorf("%s is in statement %q; want %q", a.Name, got, a.Resource.Sid())
		}
		if !strings.HasPrefix(a.Name, "iam:") || strings.ContainsAny(a.Name, "*?") {
			t.Errorf("action %q is not one exact IAM action", a.Name)
		}
		delete(allowed, a.Name)
	}
	for a := range allowed {
		t.Errorf("policy allows %s, which Actions does not list", a)
	}
}

func TestDeterministic(t *testing.T) {
	a := listed("zed", "amy", "Mo")
	b := listed("Mo", "zed", "amy")
	ja, _ := Build(a, "123456789012", "").JSON()
	jb, _ := Build(b, "123456789012", "").JSON()
	if !bytes.Equal(ja, jb) {
		t.Errorf("Build depends on the order of users:\n%s\n%s", ja, jb)
	}
	if !bytes.HasSuffix(ja, []byte("}\n")) || !bytes.Contains(ja, []byte("\n  \"Statement\"")) {
		t.Errorf("JSON() = %s; want indented JSON ending in a newline", ja)
	}
}

func TestSize(t *testing.T) {
	d := Build(listed("jsmith"), "123456789012", "aws")
	b, _ := d.JSON()
	compact := strings.Join(strings.Fields(string(b)), "")
	if got := d.Size(); got != len(compact) {
		t.Errorf("Size() = %d; want %d, the JSON without white space", got, len(compact))
	}
}

func TestPartitionOf(t *testing.T) {
	tests := []struct{ region, want string }{
		{"", "aws"},
		{"us-east-1", "aws"},
		{"eu-west-2", "aws"},
		{"us-gov-west-1", "aws-us-gov"},
		{"cn-north-1", "aws-cn"},
		{"us-iso-east-1", "aws-iso"},
		{"us-isob-east-1", "aws-iso-b"},
		{"eu-isoe-west-1", "aws-iso-e"},
		{"us-isof-south-1", "aws-iso-f"},
		{"eusc-de-east-1", "aws-eusc"},
	}
	for _, tt := range tests {
		if got := PartitionOf(tt.region); got != tt.want {
			t.Errorf("PartitionOf(%q) = %q; want %q", tt.region, got, tt.want)
		}
		if !IsPartition(tt.want) {
			t.Errorf("IsPartition(%q) = false; want true", tt.want)
		}
	}
}

func TestIsAccountID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"123456789012", true},
		{"12345678901", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{"ACCOUNT_ID", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsAccountID(tt.in); got != tt.want {
			t.Errorf("IsAccountID(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestLeftOut(t *testing.T) {
	tests := []struct {
		name      string
		protected []string
		want      []string
	}{
		{"none", nil, nil},
		{"by name, any case", []string{"BREAKGLASS", "not-listed"}, []string{"breakglass"}},
		{"a path other than root", []string{"/admin/"}, nil},
		{"the root path", []string{"/"}, []string{"breakglass", "jsmith"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := listed("jsmith", "breakglass")
			cfg.Reset.Protected = tt.protected
			if got := LeftOut(cfg); !slices.Equal(got, tt.want) {
				t.Errorf("LeftOut(protected %q) = %q; want %q", tt.protected, got, tt.want)
			}
		})
	}
}

// TestCodeCalls type-checks the packages compiled into the bot binary and
// finds every AWS operation they call, so an IAM call added anywhere
// without its action in the table, or an action the code no longer calls,
// fails.
func TestCodeCalls(t *testing.T) {
	// Operations that need no permission: IAM policies cannot deny them.
	free := map[string]bool{"sts:GetCallerIdentity": true}
	// Diagnostic operations, left out of the policy on purpose: "bot check
	// --live" asks IAM's simulator what the bot may do, and when IAM
	// refuses, it skips that check (saying how to allow it) instead of
	// failing. The bot itself never needs them.
	diagnostic := map[string]bool{"iam:SimulatePrincipalPolicy": true}

	called := awsCalls(botPackages(t))
	if len(called) == 0 {
		t.Fatal("found no AWS calls; is the walk looking in the right place?")
	}
	listed := map[string]bool{}
	for _, a := range Actions() {
		listed[a.Name] = true
	}
	for op, where := range called {
		if !listed[op] && !free[op] && !diagnostic[op] {
			t.Errorf("%s: the code calls %s, which the actions table does not list", where, op)
		}
	}
	for op := range listed {
		if _, ok := called[op]; !ok {
			t.Errorf("the actions table lists %s, but no code calls it: drop it", op)
		}
	}
}

const servicePath = "github.com/aws/aws-sdk-go-v2/service/"

// awsCalls returns where pkgs call each AWS operation ("iam:GetUser"): a
// call of any function with a parameter of an operation's input type
// (*iam.GetUserInput). That is the client's method, a method of an
// interface declared where it is called, or a paginator, and the input
// may be a literal, a variable or nil.
func awsCalls(pkgs []*packages.Package) map[string]string {
	called := map[string]string{} // "iam:GetUser" → where
	for _, p := range pkgs {
		for _, file := range p.Syntax {
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				tv := p.TypesInfo.Types[call.Fun]
				sig, ok := tv.Type.(*types.Signature)
				if !ok || tv.IsType() || tv.IsBuiltin() {
					return true // a conversion, or new(iam.GetUserInput) and the like
				}
				for param := range sig.Params().Variables() {
					if op, ok := operation(param.Type()); ok {
						called[op] = p.Fset.Position(call.Pos()).String()
					}
				}
				return true
			})
		}
	}
	return called
}

// operation returns "svc:Op" when t is (a pointer to) the input type of
// the AWS SDK operation Op of service svc.
func operation(t types.Type) (string, bool) {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := t.(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return "", false
	}
	svc, ok := strings.CutPrefix(named.Obj().Pkg().Path(), servicePath)
	if !ok || strings.Contains(svc, "/") { // service/iam/types holds no inputs
		return "", false
	}
	op, ok := strings.CutSuffix(named.Obj().Name(), "Input")
	if !ok || op == "" {
		return "", false
	}
	return svc + ":" + op, true
}

// botPackages returns the packages compiled into the bot binary, with
// their types.
func botPackages(t *testing.T) []*packages.Package {
	t.Helper()
	pkgs, err := botsource.Packages()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestIsPartitionRefuses: a partition AWS does not have names nothing, so
// a policy with it would grant nothing.
func TestIsPartitionRefuses(t *testing.T) {
	for _, bad := range []string{"AWS", "aws-mars", "aws-iso-z", "aws-", "aws-us-gov-west", ""} {
		if IsPartition(bad) {
			t.Errorf("IsPartition(%q) = true; want false", bad)
		}
	}
}
