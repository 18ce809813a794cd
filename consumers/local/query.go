package local

import (
	"bytes"
	"context"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	bolt "go.etcd.io/bbolt"

	"github.com/eventplane/eventplane/consumers/local/ddbjson"
	"github.com/eventplane/eventplane/consumers/topology"
)

// The read side of the embedded tables as DynamoDB's Query and Scan
// answer: pages of at most Limit evaluated items and at most 1 MB read
// (before FilterExpression and ProjectionExpression), LastEvaluatedKey
// while more remain, ExclusiveStartKey to go on (DynamoDB developer guide,
// "Paginating table query results"). Key conditions are DynamoDB's: an
// equality on the partition key and at most one of = < <= > >= BETWEEN
// begins_with on the sort key; results in sort key order (numeric for N,
// UTF-8 bytes otherwise), reversed by ScanIndexForward false. A global
// secondary index is read by evaluating the table's items (the local
// tables are small), so it is always consistent with the table.

// maxPage is the data one Query or Scan reads, 1 MB.
const maxPage = 1 << 20

// used checks that every ExpressionAttributeNames and
// ExpressionAttributeValues entry is used by one of the request's
// expressions, as DynamoDB refuses the request otherwise.
func (env exprEnv) used(exprs ...*string) error {
	refs := map[string]bool{}
	for _, e := range exprs {
		t, err := lex(aws.ToString(e))
		if err != nil {
			return asInvalid(err)
		}
		for _, tok := range t.toks {
			if name, _, _ := strings.Cut(tok, "."); strings.HasPrefix(name, "#") || strings.HasPrefix(name, ":") {
				refs[name] = true
			}
		}
	}
	var unusedNames, unusedValues []string
	for k := range env.names {
		if !refs[k] {
			unusedNames = append(unusedNames, k)
		}
	}
	for k := range env.values {
		if !refs[k] {
			unusedValues = append(unusedValues, k)
		}
	}
	slices.Sort(unusedNames)
	slices.Sort(unusedValues)
	switch {
	case len(unusedNames) > 0:
		return invalid("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(unusedNames, ", "))
	case len(unusedValues) > 0:
		return invalid("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(unusedValues, ", "))
	}
	return nil
}

// projection parses a ProjectionExpression ("a, #b"; top-level names
// only) into the function that projects an item; "" keeps every attribute.
func projection(expr *string, env exprEnv) (func(map[string]types.AttributeValue) map[string]types.AttributeValue, error) {
	if strings.TrimSpace(aws.ToString(expr)) == "" {
		return func(m map[string]types.AttributeValue) map[string]types.AttributeValue { return m }, nil
	}
	t, err := lex(*expr)
	if err != nil {
		return nil, asInvalid(err)
	}
	var names []string
	for {
		n, err := env.path(t.next())
		if err != nil {
			return nil, invalid("Invalid ProjectionExpression: %v", err)
		}
		names = append(names, n)
		if t.pos == len(t.toks) {
			break
		}
		if err := t.expect(","); err != nil {
			return nil, invalid("Invalid ProjectionExpression: %v", err)
		}
	}
	return func(m map[string]types.AttributeValue) map[string]types.AttributeValue {
		out := map[string]types.AttributeValue{}
		for _, n := range names {
			if v, ok := m[n]; ok {
				out[n] = v
			}
		}
		return out
	}, nil
}

// schema is the key schema a Query or Scan reads by: the table's, or a
// global secondary index's (whose items also carry the table's key).
type schema struct {
	tb    topology.Table
	index string
	hash  topology.Key
	rng   *topology.Key
}

func (t *Tables) schema(table, index *string) (schema, error) {
	tb, err := t.table(table)
	if err != nil {
		return schema{}, err
	}
	s := schema{tb: tb, hash: tb.HashKey, rng: tb.RangeKey}
	if index == nil {
		return s, nil
	}
	for _, g := range tb.GlobalSecondaryIndexes {
		if g.Name == *index {
			s.index, s.hash, s.rng = g.Name, g.HashKey, g.RangeKey
			return s, nil
		}
	}
	return schema{}, invalid("The table does not have the specified index: %s", *index)
}

// evaluationKey is LastEvaluatedKey of an item: the table's key, and the
// index's key of an index read.
func (s schema) evaluationKey(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	keys := keyAttrs(s.tb)
	keys = append(keys, s.hash)
	if s.rng != nil {
		keys = append(keys, *s.rng)
	}
	for _, k := range keys {
		if v, ok := item[k.Name]; ok {
			out[k.Name] = v
		}
	}
	return out
}

// inIndex reports whether an item is in the schema's index (an index is
// sparse: an item without the index's key attributes is not in it).
func (s schema) inIndex(item map[string]types.AttributeValue) bool {
	if s.index == "" {
		return true
	}
	if typeName(item[s.hash.Name]) != keyType(s.hash) {
		return false
	}
	return s.rng == nil || typeName(item[s.rng.Name]) == keyType(*s.rng)
}

func keyType(k topology.Key) string {
	if k.Type == "" {
		return "S"
	}
	return k.Type
}

// pager fills one page of a Query or Scan.
type pager struct {
	s       schema
	limit   int
	filter  string
	env     exprEnv
	project func(map[string]types.AttributeValue) map[string]types.AttributeValue
	count   bool

	items            []map[string]types.AttributeValue
	scanned, matched int32
	size             int
	last             map[string]types.AttributeValue
}

type readOptions struct {
	table, index, filter, projection *string
	names                            map[string]string
	values                           map[string]types.AttributeValue
	limit                            *int32
	sel                              types.Select
	consistent                       *bool
	legacy                           []error
}

func (t *Tables) pager(o readOptions, keyCondition *string) (*pager, error) {
	env := exprEnv{names: o.names, values: o.values}
	if err := errorsJoin(append(o.legacy, env.used(keyCondition, o.filter, o.projection))...); err != nil {
		return nil, err
	}
	s, err := t.schema(o.table, o.index)
	if err != nil {
		return nil, err
	}
	if s.index != "" && aws.ToBool(o.consistent) {
		return nil, invalid("Consistent reads are not supported on global secondary indexes")
	}
	p := &pager{s: s, filter: aws.ToString(o.filter), env: env}
	if o.limit != nil {
		if *o.limit < 1 {
			return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *o.limit)
		}
		p.limit = int(*o.limit)
	}
	hasProjection := strings.TrimSpace(aws.ToString(o.projection)) != ""
	switch o.sel {
	case "", types.SelectSpecificAttributes:
		if o.sel != "" && !hasProjection {
			return nil, invalid("Select SPECIFIC_ATTRIBUTES needs a ProjectionExpression")
		}
	case types.SelectAllAttributes, types.SelectCount, types.SelectAllProjectedAttributes:
		if hasProjection {
			return nil, invalid("Cannot specify the ProjectionExpression when choosing to get %s", o.sel)
		}
		if o.sel == types.SelectAllProjectedAttributes && s.index == "" {
			return nil, invalid("ALL_PROJECTED_ATTRIBUTES can be used only when querying or scanning an index")
		}
		p.count = o.sel == types.SelectCount
	default:
		return nil, invalid("Select %s is not one of ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT", o.sel)
	}
	if p.project, err = projection(o.projection, env); err != nil {
		return nil, err
	}
	return p, nil
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// full reports whether the page has its Limit of evaluated items or its
// 1 MB.
func (p *pager) full() bool {
	return (p.limit > 0 && int(p.scanned) >= p.limit) || p.size >= maxPage
}

// add evaluates one item: counted as scanned, kept if it passes the
// filter.
func (p *pager) add(item map[string]types.AttributeValue) error {
	p.scanned++
	p.size += ddbjson.Size(item)
	p.last = item
	ok, err := evalCondition(p.filter, item, p.env)
	if err != nil {
		return asInvalid(err)
	}
	if ok {
		p.matched++
		if !p.count {
			p.items = append(p.items, p.project(item))
		}
	}
	return nil
}

// lastKey is the page's LastEvaluatedKey: set when items remain.
func (p *pager) lastKey(more bool) map[string]types.AttributeValue {
	if !more || p.last == nil {
		return nil
	}
	return p.s.evaluationKey(p.last)
}

// Scan implements the DynamoDB operation: the table's (or an index's)
// items in key order, paginated, with a FilterExpression, a
// ProjectionExpression, Select COUNT and parallel scan segments (by a
// hash of the partition key, as DynamoDB segments).
func (t *Tables) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	p, err := t.pager(readOptions{table: in.TableName, index: in.IndexName, filter: in.FilterExpression, projection: in.ProjectionExpression,
		names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, limit: in.Limit, sel: in.Select, consistent: in.ConsistentRead,
		legacy: []error{legacy("ScanFilter", in.ScanFilter != nil), legacy("AttributesToGet", in.AttributesToGet != nil), legacy("ConditionalOperator", in.ConditionalOperator != "")}}, nil)
	if err != nil {
		return nil, err
	}
	segment, total := aws.ToInt32(in.Segment), aws.ToInt32(in.TotalSegments)
	switch {
	case (in.Segment == nil) != (in.TotalSegments == nil):
		return nil, invalid("The TotalSegments parameter is required but was not present in the request when Segment parameter is present (and the reverse)")
	case in.TotalSegments != nil && (total < 1 || total > 1000000):
		return nil, invalid("TotalSegments must be between 1 and 1000000, not %d", total)
	case in.Segment != nil && (segment < 0 || segment >= total):
		return nil, invalid("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", segment, total)
	}
	tb := p.s.tb
	var start []byte
	if in.ExclusiveStartKey != nil {
		if err := checkKey(tb, in.ExclusiveStartKey, false); err != nil {
			return nil, invalid("The provided starting key is invalid: %v", err)
		}
		start, _ = t.key(tb, in.ExclusiveStartKey)
	}
	more := false
	err = t.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(tb.Name)).Cursor()
		k, raw := c.First()
		if start != nil {
			if k, raw = c.Seek(start); k != nil && bytes.Equal(k, start) {
				k, raw = c.Next()
			}
		}
		for ; k != nil; k, raw = c.Next() {
			item, err := decodeItem(raw)
			if err != nil {
				return err
			}
			if !p.s.inIndex(item) || (total > 0 && segmentOf(tb, item, total) != segment) {
				continue
			}
			if p.full() {
				more = true
				return nil
			}
			if err := p.add(item); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.ScanOutput{Items: p.items, Count: p.matched, ScannedCount: p.scanned, LastEvaluatedKey: p.lastKey(more)}, nil
}

func segmentOf(tb topology.Table, item map[string]types.AttributeValue, total int32) int32 {
	h := fnv.New32a()
	k, _ := (&Tables{}).key(topology.Table{HashKey: tb.HashKey}, item)
	h.Write(k)
	return int32(h.Sum32() % uint32(total))
}

// sortCondition is a key condition's predicate on the sort key.
type sortCondition struct {
	op     string // = < <= > >= BETWEEN begins_with
	values []types.AttributeValue
}

func (c sortCondition) match(v types.AttributeValue) bool {
	if v == nil {
		return false
	}
	n, ok := compare(v, c.values[0])
	if !ok {
		return false
	}
	switch c.op {
	case "=":
		return n == 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "BETWEEN":
		m, _ := compare(v, c.values[1])
		return n >= 0 && m <= 0
	}
	// begins_with
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return strings.HasPrefix(x.Value, c.values[0].(*types.AttributeValueMemberS).Value)
	case *types.AttributeValueMemberB:
		return bytes.HasPrefix(x.Value, c.values[0].(*types.AttributeValueMemberB).Value)
	}
	return false
}

// keyCondition parses a KeyConditionExpression over the schema: the
// partition key's value and the sort key's condition (nil: none).
func (s schema) keyCondition(expr string, env exprEnv) (types.AttributeValue, *sortCondition, error) {
	bad := func(format string, args ...any) error {
		return invalid("Invalid KeyConditionExpression: "+format, args...)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, nil, invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request")
	}
	t, err := lex(expr)
	if err != nil {
		return nil, nil, bad("%v", err)
	}
	value := func(k topology.Key) (types.AttributeValue, error) {
		tok := t.next()
		if !strings.HasPrefix(tok, ":") {
			return nil, bad("want an expression attribute value (:v), got %q", tok)
		}
		v, ok := env.values[tok]
		if !ok {
			return nil, bad("An expression attribute value used in expression is not defined; attribute value: %s", tok)
		}
		if typeName(v) != keyType(k) {
			return nil, bad("Condition parameter type does not match schema type: %s is %s, key %s is %s", tok, typeName(v), k.Name, keyType(k))
		}
		return v, nil
	}
	key := func(tok string) (topology.Key, error) {
		name, err := env.path(tok)
		if err != nil {
			return topology.Key{}, bad("%v", err)
		}
		if name == s.hash.Name {
			return s.hash, nil
		}
		if s.rng != nil && name == s.rng.Name {
			return *s.rng, nil
		}
		return topology.Key{}, invalid("Query condition missed key schema element: %s is not a key attribute (the key is %s%s)", name, s.hash.Name,
			map[bool]string{true: ", " + rangeName(s.rng), false: ""}[s.rng != nil])
	}
	var hash types.AttributeValue
	var sortCond *sortCondition
	for {
		depth := 0
		for t.peek() == "(" {
			t.next()
			depth++
		}
		var k topology.Key
		c := sortCondition{}
		if strings.EqualFold(t.peek(), "begins_with") {
			t.next()
			if err := t.expect("("); err != nil {
				return nil, nil, bad("%v", err)
			}
			if k, err = key(t.next()); err != nil {
				return nil, nil, err
			}
			if err := t.expect(","); err != nil {
				return nil, nil, bad("%v", err)
			}
			v, err := value(k)
			if err != nil {
				return nil, nil, err
			}
			if typeName(v) == "N" {
				return nil, nil, bad("Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
			}
			if err := t.expect(")"); err != nil {
				return nil, nil, bad("%v", err)
			}
			c = sortCondition{op: "begins_with", values: []types.AttributeValue{v}}
		} else {
			if t.pos+1 < len(t.toks) && t.toks[t.pos+1] == "(" {
				return nil, nil, bad("function %s is not supported in a key condition (begins_with is)", t.peek())
			}
			if k, err = key(t.next()); err != nil {
				return nil, nil, err
			}
			op := strings.ToUpper(t.next())
			v, err := value(k)
			if err != nil {
				return nil, nil, err
			}
			c = sortCondition{op: op, values: []types.AttributeValue{v}}
			switch op {
			case "=", "<", "<=", ">", ">=":
			case "BETWEEN":
				if err := t.expect("AND"); err != nil {
					return nil, nil, bad("%v", err)
				}
				hi, err := value(k)
				if err != nil {
					return nil, nil, err
				}
				if n, _ := compare(v, hi); n > 0 {
					return nil, nil, bad("The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
				}
				c.values = append(c.values, hi)
			default:
				return nil, nil, bad("unsupported operator in a key condition: %s (= < <= > >= BETWEEN begins_with are)", op)
			}
		}
		for ; depth > 0; depth-- {
			if err := t.expect(")"); err != nil {
				return nil, nil, bad("%v", err)
			}
		}
		switch {
		case k.Name == s.hash.Name && hash == nil:
			if c.op != "=" {
				return nil, nil, bad("Query key condition not supported: the partition key %s takes only =", k.Name)
			}
			hash = c.values[0]
		case k.Name != s.hash.Name && sortCond == nil:
			sortCond = &c
		default:
			return nil, nil, bad("KeyConditionExpressions must only contain one condition per key: %s", k.Name)
		}
		if t.pos == len(t.toks) {
			break
		}
		if tok := t.next(); !strings.EqualFold(tok, "AND") {
			return nil, nil, bad("key conditions are joined by AND only, not %q", tok)
		}
	}
	if hash == nil {
		return nil, nil, invalid("Query condition missed key schema element: %s", s.hash.Name)
	}
	return hash, sortCond, nil
}

// filterOnKey refuses a Query's FilterExpression on the key attributes
// the query reads by, as DynamoDB does (they belong in the key condition).
func (s schema) filterOnKey(filter string, env exprEnv) error {
	t, err := lex(filter)
	if err != nil {
		return asInvalid(err)
	}
	for i, tok := range t.toks {
		switch strings.ToUpper(tok) {
		case "AND", "OR", "NOT", "BETWEEN", "IN", "(", ")", ",", "=", "<>", "<", "<=", ">", ">=":
			continue
		}
		if strings.HasPrefix(tok, ":") || (i+1 < len(t.toks) && t.toks[i+1] == "(") {
			continue
		}
		name := tok
		if strings.HasPrefix(tok, "#") {
			name = env.names[tok]
		}
		if name == s.hash.Name || (s.rng != nil && name == s.rng.Name) {
			return invalid("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", name)
		}
	}
	return nil
}

func rangeName(k *topology.Key) string {
	if k == nil {
		return ""
	}
	return k.Name
}

// Query implements the DynamoDB operation on the table or a global
// secondary index.
func (t *Tables) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p, err := t.pager(readOptions{table: in.TableName, index: in.IndexName, filter: in.FilterExpression, projection: in.ProjectionExpression,
		names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, limit: in.Limit, sel: in.Select, consistent: in.ConsistentRead,
		legacy: []error{legacy("KeyConditions", in.KeyConditions != nil), legacy("QueryFilter", in.QueryFilter != nil),
			legacy("AttributesToGet", in.AttributesToGet != nil), legacy("ConditionalOperator", in.ConditionalOperator != "")}}, in.KeyConditionExpression)
	if err != nil {
		return nil, err
	}
	s := p.s
	hash, sortCond, err := s.keyCondition(aws.ToString(in.KeyConditionExpression), p.env)
	if err != nil {
		return nil, err
	}
	if err := s.filterOnKey(aws.ToString(in.FilterExpression), p.env); err != nil {
		return nil, err
	}
	type candidate struct {
		item map[string]types.AttributeValue
		key  []byte
	}
	var cands []candidate
	err = t.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(s.tb.Name)).Cursor()
		var prefix []byte // the partition of a table read
		if s.index == "" {
			prefix, _ = t.key(topology.Table{HashKey: s.hash}, map[string]types.AttributeValue{s.hash.Name: hash})
			if s.tb.RangeKey != nil {
				prefix = append(prefix, 0)
			}
		}
		for k, raw := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, raw = c.Next() {
			item, err := decodeItem(raw)
			if err != nil {
				return err
			}
			if n, ok := compare(item[s.hash.Name], hash); !ok || n != 0 || !s.inIndex(item) {
				continue
			}
			if sortCond != nil && !sortCond.match(item[s.rng.Name]) {
				continue
			}
			cands = append(cands, candidate{item: item, key: slices.Clone(k)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	order := func(a, b candidate) int {
		n := 0
		if s.rng != nil {
			n, _ = compare(a.item[s.rng.Name], b.item[s.rng.Name])
		}
		if n == 0 {
			n = bytes.Compare(a.key, b.key)
		}
		if !forward {
			n = -n
		}
		return n
	}
	sort.SliceStable(cands, func(i, j int) bool { return order(cands[i], cands[j]) < 0 })
	from := 0
	if in.ExclusiveStartKey != nil {
		start := in.ExclusiveStartKey
		if err := checkKey(s.tb, start, false); err != nil {
			return nil, invalid("The provided starting key is invalid: %v", err)
		}
		if n, ok := compare(start[s.hash.Name], hash); !ok || n != 0 {
			return nil, invalid("The provided starting key is outside query boundaries based on provided conditions")
		}
		k, _ := t.key(s.tb, start)
		sc := candidate{item: start, key: k}
		from = sort.Search(len(cands), func(i int) bool { return order(cands[i], sc) > 0 })
	}
	more := false
	for _, c := range cands[from:] {
		if p.full() {
			more = true
			break
		}
		if err := p.add(c.item); err != nil {
			return nil, err
		}
	}
	return &dynamodb.QueryOutput{Items: p.items, Count: p.matched, ScannedCount: p.scanned, LastEvaluatedKey: p.lastKey(more)}, nil
}

// tableARN is a local table's ARN.
func tableARN(name string) string {
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name
}

// DescribeTable implements the DynamoDB operation: an ACTIVE,
// on-demand table with the topology's key schema and indexes, and its
// item count and size now (DynamoDB updates those about every six hours).
func (t *Tables) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	tb, err := t.table(in.TableName)
	if err != nil {
		return nil, err
	}
	var count, size int64
	err = t.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(tb.Name)).ForEach(func(_, raw []byte) error {
			item, err := decodeItem(raw)
			if err != nil {
				return err
			}
			count++
			size += int64(ddbjson.Size(item))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var defs []types.AttributeDefinition
	define := func(k topology.Key) {
		for _, d := range defs {
			if aws.ToString(d.AttributeName) == k.Name {
				return
			}
		}
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(k.Name), AttributeType: types.ScalarAttributeType(keyType(k))})
	}
	schemaOf := func(h topology.Key, r *topology.Key) []types.KeySchemaElement {
		define(h)
		out := []types.KeySchemaElement{{AttributeName: aws.String(h.Name), KeyType: types.KeyTypeHash}}
		if r != nil {
			define(*r)
			out = append(out, types.KeySchemaElement{AttributeName: aws.String(r.Name), KeyType: types.KeyTypeRange})
		}
		return out
	}
	d := &types.TableDescription{
		TableName: aws.String(tb.Name), TableArn: aws.String(tableARN(tb.Name)), TableId: aws.String(tb.Name),
		TableStatus: types.TableStatusActive, KeySchema: schemaOf(tb.HashKey, tb.RangeKey), CreationDateTime: aws.Time(t.opened),
		ItemCount: aws.Int64(count), TableSizeBytes: aws.Int64(size), DeletionProtectionEnabled: aws.Bool(false),
		BillingModeSummary:    &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest},
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(0), NumberOfDecreasesToday: aws.Int64(0)},
	}
	for _, g := range tb.GlobalSecondaryIndexes {
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{
			IndexName: aws.String(g.Name), IndexArn: aws.String(tableARN(tb.Name) + "/index/" + g.Name), IndexStatus: types.IndexStatusActive,
			KeySchema: schemaOf(g.HashKey, g.RangeKey), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(0), NumberOfDecreasesToday: aws.Int64(0)},
		})
	}
	d.AttributeDefinitions = defs
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

// ListTables implements the DynamoDB operation: the topology's tables in
// name order, up to Limit (1 to 100, default 100) after
// ExclusiveStartTableName.
func (t *Tables) ListTables(_ context.Context, in *dynamodb.ListTablesInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	names := make([]string, 0, len(t.keys))
	for n := range t.keys {
		if n > aws.ToString(in.ExclusiveStartTableName) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := &dynamodb.ListTablesOutput{TableNames: names}
	if len(names) > limit {
		out.TableNames = names[:limit]
		out.LastEvaluatedTableName = aws.String(names[limit-1])
	}
	return out, nil
}
