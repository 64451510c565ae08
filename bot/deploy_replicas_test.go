package main

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// replicasDir is the variant for several replicas on PostgreSQL.
var replicasDir = filepath.Join(deployDir, "kubernetes", "replicas")

// replicaObjects decodes the variant's objects by kind, each also as a
// generic map for the fields k8sObject does not read.
func replicaObjects(t *testing.T) (map[string]k8sObject, map[string]map[string]any) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(replicasDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", replicasDir, err)
	}
	typed, raw := map[string]k8sObject{}, map[string]map[string]any{}
	for _, f := range files {
		for _, n := range yamlDocs(t, f) {
			var o k8sObject
			var m map[string]any
			if err := n.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := n.Decode(&m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if _, dup := typed[o.Kind]; dup {
				t.Fatalf("%s: a second %s", f, o.Kind)
			}
			if o.Metadata.Namespace != "" {
				t.Errorf("%s: %s sets a namespace; the manifests are namespace-less", f, o.Kind)
			}
			typed[o.Kind], raw[o.Kind] = o, m
		}
	}
	return typed, raw
}

// dig returns the value at the keys' path in m, or nil.
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k.(string)]
		case []any:
			i := k.(int)
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestKubernetesReplicasVariant checks the variant for several replicas:
// three pods rolled one at a time with none unavailable, a
// PodDisruptionBudget over the same pods, the database URL from a Secret
// file, no volume for SQLite, and the probes, security and tokens of the
// single pod unchanged.
func TestKubernetesReplicasVariant(t *testing.T) {
	single := k8sObjects(t)["Deployment"][0]
	objs, raw := replicaObjects(t)
	dep, ok := objs["Deployment"]
	if !ok {
		t.Fatal("no Deployment in the replicas variant")
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 || dep.Spec.Strategy.Type != "RollingUpdate" {
		t.Errorf("Deployment: replicas %v, strategy %q; want 3 and RollingUpdate", dep.Spec.Replicas, dep.Spec.Strategy.Type)
	}
	if u := dig(raw["Deployment"], "spec", "strategy", "rollingUpdate", "maxUnavailable"); u != 0 {
		t.Errorf("rollingUpdate.maxUnavailable = %v; want 0, so a rollout never drops below three ready pods", u)
	}

	// The PodDisruptionBudget covers exactly the Deployment's pods.
	pdb, ok := raw["PodDisruptionBudget"]
	if !ok {
		t.Fatal("no PodDisruptionBudget in the replicas variant")
	}
	labels := dep.Spec.Template.Metadata.Labels
	sel, _ := dig(pdb, "spec", "selector", "matchLabels").(map[string]any)
	if len(sel) == 0 {
		t.Error("PodDisruptionBudget selects nothing")
	}
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("PodDisruptionBudget selects %s=%v; the pods are labelled %v", k, v, labels)
		}
	}
	if m, _ := dig(pdb, "spec", "minAvailable").(int); m < 1 || m >= *dep.Spec.Replicas {
		t.Errorf("PodDisruptionBudget minAvailable = %v; want at least 1 and fewer than the replicas", dig(pdb, "spec", "minAvailable"))
	}

	// The probes, the container's security and the pod's identity are the
	// single pod's.
	pod, singlePod := dep.Spec.Template.Spec, single.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers; want 1", len(pod.Containers))
	}
	c, sc := pod.Containers[0], singlePod.Containers[0]
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		got := dig(raw["Deployment"], "spec", "template", "spec", "containers", 0, probe)
		want := dig(yamlMap(t, filepath.Join(deployDir, "kubernetes", "deployment.yaml"), "Deployment"), "spec", "template", "spec", "containers", 0, probe)
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v; want the single pod's, %v", probe, got, want)
		}
	}
	if !reflect.DeepEqual(c.SecurityContext, sc.SecurityContext) || !reflect.DeepEqual(c.Args, sc.Args) || !reflect.DeepEqual(c.Ports, sc.Ports) {
		t.Error("the container's securityContext, args or ports differ from the single pod's")
	}
	if pod.ServiceAccountName != singlePod.ServiceAccountName || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod's service account differs from the single pod's, or mounts a Kubernetes API token")
	}

	// No volume for SQLite; the database URL is a key of the database
	// Secret, mounted read-only; the Slack tokens are the single pod's.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if _, set := env[config.EnvDatabaseURL]; set {
		t.Errorf("%s is set in the manifest; the URL holds the password: use %s_FILE", config.EnvDatabaseURL, config.EnvDatabaseURL)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
		if m.Name != "tmp" && !m.ReadOnly {
			t.Errorf("volume %s is mounted writable; only /tmp needs to be", m.Name)
		}
	}
	dbSecret, ok := objs["Secret"]
	if !ok {
		t.Fatal("no database Secret in the replicas variant")
	}
	var urlFile string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s claims %s: replicas share the database, not a volume", v.Name, v.PersistentVolumeClaim.ClaimName)
		}
		if v.Secret != nil && v.Secret.SecretName == dbSecret.Metadata.Name {
			urlFile = mounts[v.Name]
		}
	}
	key, ok := strings.CutPrefix(env[config.EnvDatabaseURL+"_FILE"], urlFile+"/")
	if urlFile == "" || !ok || dbSecret.StringData[key] == "" {
		t.Errorf("%s_FILE = %q; want a key of Secret %s mounted as a volume", config.EnvDatabaseURL, env[config.EnvDatabaseURL+"_FILE"], dbSecret.Metadata.Name)
	}
	for _, name := range []string{config.EnvAppToken + "_FILE", config.EnvBotToken + "_FILE"} {
		if !slices.ContainsFunc(sc.Env, func(e struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		}) bool {
			return e.Name == name && e.Value == env[name]
		}) {
			t.Errorf("%s = %q differs from the single pod's", name, env[name])
		}
	}

	// The configuration is valid and names no SQLite file on a volume.
	cm, ok := objs["ConfigMap"]
	if !ok {
		t.Fatal("no ConfigMap in the replicas variant")
	}
	cfg, err := config.Parse(strings.NewReader(cm.Data["config.yaml"]))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("the variant's config.yaml is not valid: %v", err)
	}
	if strings.Contains(cm.Data["config.yaml"], "path:") || cfg.Store.PostgresURL != "" {
		t.Error("the variant's config sets store.path or store.postgres_url; the URL comes from DATABASE_URL_FILE")
	}
	if cfg.Store.ReplicaTimeout.D() <= 0 {
		t.Error("the variant's config has no store.replica_timeout")
	}
}

// yamlMap decodes the object of kind in file as a generic map.
func yamlMap(t *testing.T, file, kind string) map[string]any {
	t.Helper()
	for _, n := range yamlDocs(t, file) {
		var m map[string]any
		if err := n.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] == kind {
			return m
		}
	}
	t.Fatalf("%s has no %s", file, kind)
	return nil
}
