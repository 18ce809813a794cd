package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Terraform's yamldecode reads YAML 1.2: a DynamoDB key type N is the
// string "N", not the YAML 1.1 boolean false.
func TestKeyTypeNStaysAString(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(p, []byte("tables:\n  - name: t\n    hashKey: { name: pk, type: N }\n    on: yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := convert(p)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Topology struct {
			Tables []map[string]any `json:"tables"`
		} `json:"topology"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	tbl := got.Topology.Tables[0]
	if k := tbl["hashKey"].(map[string]any)["type"]; k != "N" {
		t.Errorf("hashKey.type = %#v, want \"N\"", k)
	}
	if v := tbl["on"]; v != "yes" {
		t.Errorf("on = %#v, want the string yes", v)
	}
}
