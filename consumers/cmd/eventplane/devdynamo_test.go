package main

import (
	"strings"
	"testing"
	"time"
)

// cliDynamoDB drives the DynamoDB API of `eventplane dev` with the aws
// CLI, as the README's "Any AWS client" section documents it: the order
// the CLI's put-events sent through the orders flow is read back with
// get-item, query and scan of the orders table.
func cliDynamoDB(t *testing.T, run func(args ...string) map[string]any) {
	t.Helper()
	key := `{"pk":{"S":"order#cli-1"},"sk":{"S":"state"}}`
	var got map[string]any
	for deadline := time.Now().Add(15 * time.Second); ; {
		got = run("dynamodb", "get-item", "--table-name", "local-orders", "--key", key)
		if got["Item"] != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	item, _ := got["Item"].(map[string]any)
	if pk, _ := item["pk"].(map[string]any); pk["S"] != "order#cli-1" {
		t.Fatalf("get-item of the order the orders flow stored: %v", got)
	}
	q := run("dynamodb", "query", "--table-name", "local-orders", "--key-condition-expression", "pk = :p AND begins_with(sk, :s)",
		"--expression-attribute-values", `{":p":{"S":"order#cli-1"},":s":{"S":"st"}}`, "--projection-expression", "pk, sk")
	if items, _ := q["Items"].([]any); q["Count"] != float64(1) || len(items) != 1 || len(items[0].(map[string]any)) != 2 {
		t.Errorf("query: %v", q)
	}
	sc := run("dynamodb", "scan", "--table-name", "local-orders", "--filter-expression", "pk = :p",
		"--expression-attribute-values", `{":p":{"S":"order#cli-1"}}`)
	if sc["Count"] != float64(1) {
		t.Errorf("scan: %v", sc)
	}
	d := run("dynamodb", "describe-table", "--table-name", "local-orders")
	if tb, _ := d["Table"].(map[string]any); tb["TableStatus"] != "ACTIVE" || !strings.HasSuffix(tb["TableArn"].(string), ":table/local-orders") {
		t.Errorf("describe-table: %v", d)
	}
	l := run("dynamodb", "list-tables")
	if names, _ := l["TableNames"].([]any); len(names) == 0 || !strings.Contains(strings.Join(strs(names), " "), "local-orders") {
		t.Errorf("list-tables: %v", l)
	}
}

func strs(xs []any) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
