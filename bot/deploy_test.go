package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
)

// deployDir is deploy/ at the top of the repository; tests run in bot/.
const deployDir = "../deploy"

// TestDeployFilesParse parses every .yaml file under deploy/ as a stream of
// YAML documents and every .json file as JSON.
func TestDeployFilesParse(t *testing.T) {
	var seen int
	err := filepath.WalkDir(deployDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml":
			seen++
			t.Run(p, func(t *testing.T) { _ = yamlDocs(t, p) })
		case ".json":
			seen++
			t.Run(p, func(t *testing.T) {
				var v any
				if err := json.Unmarshal(readFile(t, p), &v); err != nil {
					t.Errorf("%s is not valid JSON: %v", p, err)
				}
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatalf("no .yaml or .json files under %s", deployDir)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// yamlDocs decodes every document in a YAML file.
func yamlDocs(t *testing.T, p string) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, p)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		docs = append(docs, &n)
	}
	if len(docs) == 0 {
		t.Fatalf("%s holds no YAML document", p)
	}
	return docs
}

// The parts of Kubernetes objects the checks below read.
type (
	k8sObject struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name        string            `yaml:"name"`
			Namespace   string            `yaml:"namespace"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Data       map[string]string `yaml:"data"`
		StringData map[string]string `yaml:"stringData"`
		Spec       k8sSpec           `yaml:"spec"`
		// AutomountServiceAccountToken is a ServiceAccount's.
		AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
	}
	k8sSpec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// A NetworkPolicy's.
		PodSelector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"podSelector"`
		PolicyTypes []string `yaml:"policyTypes"`
		Ingress     []struct {
			From  []map[string]any `yaml:"from"`
			Ports []struct {
				Port     any    `yaml:"port"`
				Protocol string `yaml:"protocol"`
			} `yaml:"ports"`
		} `yaml:"ingress"`
	}
	podSpec struct {
		ServiceAccountName           string `yaml:"serviceAccountName"`
		AutomountServiceAccountToken *bool  `yaml:"automountServiceAccountToken"`
		SecurityContext              struct {
			RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		} `yaml:"securityContext"`
		Containers []container `yaml:"containers"`
		Volumes    []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
			Secret *struct {
				SecretName string `yaml:"secretName"`
			} `yaml:"secret"`
			PersistentVolumeClaim *struct {
				ClaimName string `yaml:"claimName"`
			} `yaml:"persistentVolumeClaim"`
		} `yaml:"volumes"`
	}
	container struct {
		Args []string `yaml:"args"`
		Env  []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
)

// k8sObjects decodes every object in deploy/kubernetes, by kind.
func k8sObjects(t *testing.T) map[string][]k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes (%v)", err)
	}
	byKind := map[string][]k8sObject{}
	for _, f := range files {
		for _, n := range yamlDocs(t, f) {
			var o k8sObject
			if err := n.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: an object lacks apiVersion, kind or metadata.name", f)
			}
			if o.Metadata.Namespace != "" {
				t.Errorf("%s: %s %s sets namespace %q; the manifests are namespace-less", f, o.Kind, o.Metadata.Name, o.Metadata.Namespace)
			}
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	for _, kind := range []string{"Deployment", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "NetworkPolicy"} {
		if len(byKind[kind]) != 1 {
			t.Fatalf("deploy/kubernetes has %d %s objects; want 1", len(byKind[kind]), kind)
		}
	}
	return byKind
}

// TestKubernetesManifests checks that the objects fit together and fit
// the bot: the ConfigMap's config is valid, the probes reach its HTTP
// listener, the store sits on the volume, and the token files are the
// Secret's keys.
func TestKubernetesManifests(t *testing.T) {
	objs := k8sObjects(t)
	dep := objs["Deployment"][0]
	cm := objs["ConfigMap"][0]
	secret := objs["Secret"][0]
	sa := objs["ServiceAccount"][0]
	pvc := objs["PersistentVolumeClaim"][0]

	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("Deployment: replicas %v, strategy %q; want 1 and Recreate (one writer to the store)", dep.Spec.Replicas, dep.Spec.Strategy.Type)
	}
	pod := dep.Spec.Template.Spec
	if pod.ServiceAccountName != sa.Metadata.Name {
		t.Errorf("Deployment uses service account %q; want %q", pod.ServiceAccountName, sa.Metadata.Name)
	}
	if sa.Metadata.Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Error("ServiceAccount has no eks.amazonaws.com/role-arn annotation (the IRSA example)")
	}
	// The bot never calls the Kubernetes API: no token for it in the pod.
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken ||
		sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false on both the pod and its ServiceAccount")
	}
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers; want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container securityContext = %+v; want a read-only root, no privilege escalation, all capabilities dropped", sc)
	}
	if c.Resources.Requests["cpu"] != "50m" || c.Resources.Requests["memory"] != "64Mi" || c.Resources.Limits["memory"] != "128Mi" {
		t.Errorf("resources = %+v; want requests 50m/64Mi and a 128Mi memory limit", c.Resources)
	}

	// The volumes name the objects defined here.
	mounts := map[string]string{} // volume → mount path
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	var configDir, tokenDir, storeDir string
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			configDir = mounts[v.Name]
			if v.ConfigMap.Name != cm.Metadata.Name {
				t.Errorf("volume %s names ConfigMap %q; want %q", v.Name, v.ConfigMap.Name, cm.Metadata.Name)
			}
		case v.Secret != nil:
			tokenDir = mounts[v.Name]
			if v.Secret.SecretName != secret.Metadata.Name {
				t.Errorf("volume %s names Secret %q; want %q", v.Name, v.Secret.SecretName, secret.Metadata.Name)
			}
		case v.PersistentVolumeClaim != nil:
			storeDir = mounts[v.Name]
			if v.PersistentVolumeClaim.ClaimName != pvc.Metadata.Name {
				t.Errorf("volume %s names claim %q; want %q", v.Name, v.PersistentVolumeClaim.ClaimName, pvc.Metadata.Name)
			}
		}
	}
	if configDir == "" || tokenDir == "" || storeDir == "" {
		t.Fatalf("Deployment mounts config %q, tokens %q, store %q; want all three", configDir, tokenDir, storeDir)
	}

	// The config the container is told to read is the ConfigMap's, and valid.
	i := slices.Index(c.Args, "--config")
	if i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("container args %q have no --config", c.Args)
	}
	configPath := c.Args[i+1]
	key, ok := strings.CutPrefix(configPath, configDir+"/")
	if !ok || cm.Data[key] == "" {
		t.Fatalf("--config %s is not a key of the ConfigMap mounted at %s", configPath, configDir)
	}
	cfg, err := config.Parse(strings.NewReader(cm.Data[key]))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("the ConfigMap's %s is not a valid config: %v", key, err)
	}
	if path.Dir(cfg.Store.Path) != storeDir {
		t.Errorf("store.path %s is not on the volume mounted at %s", cfg.Store.Path, storeDir)
	}

	// The probes reach the config's HTTP listener.
	_, port, _ := strings.Cut(cfg.HTTP.Addr, ":")
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, pr := range map[string]*probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if pr == nil || pr.HTTPGet.Path != name {
			t.Errorf("want a probe on %s; got %+v", name, pr)
			continue
		}
		if p, _ := pr.HTTPGet.Port.(string); p == "" || ports[p] == 0 || port != strconv.Itoa(ports[p]) {
			t.Errorf("probe on %s uses port %v; want the named container port that http.addr %q listens on", name, pr.HTTPGet.Port, cfg.HTTP.Addr)
		}
	}

	// The NetworkPolicy covers the bot's pods and lets only a named source
	// reach only the HTTP port, whose /metrics has no authentication.
	np := objs["NetworkPolicy"][0]
	labels := dep.Spec.Template.Metadata.Labels
	if len(np.Spec.PodSelector.MatchLabels) == 0 {
		t.Error("NetworkPolicy selects every pod; want the bot's")
	}
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if labels[k] != v {
			t.Errorf("NetworkPolicy selects %s=%s; the bot's pods are labelled %v", k, v, labels)
		}
	}
	if !slices.Contains(np.Spec.PolicyTypes, "Ingress") || len(np.Spec.Ingress) == 0 {
		t.Errorf("NetworkPolicy policyTypes %v with %d ingress rules; want Ingress with a rule for Prometheus", np.Spec.PolicyTypes, len(np.Spec.Ingress))
	}
	for i, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("NetworkPolicy ingress[%d] has no from: it admits every source", i)
		}
		if len(rule.Ports) != 1 {
			t.Errorf("NetworkPolicy ingress[%d] has %d ports; want the HTTP port alone", i, len(rule.Ports))
			continue
		}
		p, _ := rule.Ports[0].Port.(string)
		if ports[p] == 0 || port != strconv.Itoa(ports[p]) || rule.Ports[0].Protocol != "TCP" {
			t.Errorf("NetworkPolicy ingress[%d] port %v/%s; want the named container port that http.addr %q listens on, TCP",
				i, rule.Ports[0].Port, rule.Ports[0].Protocol, cfg.HTTP.Addr)
		}
	}

	// The token files are the Secret's keys, and its placeholders are not
	// tokens the bot would start with.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	files := map[string]string{}
	for _, name := range []string{config.EnvAppToken, config.EnvBotToken} {
		p := env[name+"_FILE"]
		key, ok := strings.CutPrefix(p, tokenDir+"/")
		if _, isKey := secret.StringData[key]; !ok || !isKey {
			t.Errorf("%s_FILE = %q; want a key of the Secret mounted at %s (keys %v)", name, p, tokenDir, slices.Sorted(maps.Keys(secret.StringData)))
		}
		dir := t.TempDir()
		files[name+"_FILE"] = filepath.Join(dir, key)
		if err := os.WriteFile(files[name+"_FILE"], []byte(secret.StringData[key]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := config.SecretsFromEnv(func(k string) string { return files[k] }); err == nil {
		t.Error("the Secret's placeholders pass as Slack tokens; want the bot to refuse them")
	}
}

// TestDockerfileMatchesDeployment checks that the image's default command
// and the Deployment's args read the same config file.
func TestDockerfileMatchesDeployment(t *testing.T) {
	dockerfile := string(readFile(t, "../Dockerfile"))
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindStringSubmatch(dockerfile)
	if m == nil {
		t.Fatal("Dockerfile has no CMD in exec form")
	}
	var cmd []string
	if err := json.Unmarshal([]byte(m[1]), &cmd); err != nil {
		t.Fatalf("Dockerfile CMD %s: %v", m[1], err)
	}
	args := k8sObjects(t)["Deployment"][0].Spec.Template.Spec.Containers[0].Args
	if !slices.Equal(cmd, args) {
		t.Errorf("Dockerfile CMD %q differs from the Deployment's args %q", cmd, args)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.Version=${VERSION}"`, "USER 65532", `ENTRYPOINT ["/aws-reset-bot"]`} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}

// TestGrafanaDashboard checks that every metric the dashboard queries is
// one the bot exports, and that every metric the bot exports is on it.
func TestGrafanaDashboard(t *testing.T) {
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(deployDir, "grafana", "aws-reset-bot.json")), &dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if dash.UID == "" {
		t.Error("dashboard has no uid")
	}

	exported := exportedMetrics(t)
	queried := map[string]bool{}
	ids := map[int]bool{}
	name := regexp.MustCompile(`\bawsreset_[a-z0-9_]+`)
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the $datasource variable", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				family := m
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(m, suffix); ok && exported[base] == "histogram" {
						family = base
					}
				}
				if exported[family] == "" {
					t.Errorf("panel %q queries %s, which the bot does not export", p.Title, m)
				}
				queried[family] = true
			}
		}
	}
	for _, m := range slices.Sorted(maps.Keys(exported)) {
		if !queried[m] {
			t.Errorf("the bot exports %s, but no panel shows it", m)
		}
	}
}

// exportedMetrics returns the bot's metric families, name → "counter",
// "gauge" or "histogram", with one observation each so labelled ones show.
func exportedMetrics(t *testing.T) map[string]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Command("slash")
	m.Ack(time.Millisecond)
	m.Reset("delivered")
	m.Decision("approved")
	m.SlackCall("chat.postMessage", 429, time.Millisecond)
	m.IAMCall("", "UpdateLoginProfile", "ok", time.Millisecond, 1)
	m.Connected(true, true)
	m.ReminderSent(7)
	m.ExpiringSoon(1)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range families {
		out[f.GetName()] = strings.ToLower(f.GetType().String())
	}
	return out
}
