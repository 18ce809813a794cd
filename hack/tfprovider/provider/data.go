package provider

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// reader computes a data source's attributes from its configuration.
type reader func(s *Server, cfg map[string]tftypes.Value) (map[string]tftypes.Value, error)

// readers are the data sources whose answer is known at plan time in the
// cloud: they are computed as the real provider computes them.
var readers = map[string]reader{
	"aws_iam_policy_document": readPolicyDocument,
	"aws_caller_identity":     readCallerIdentity,
	"aws_region":              readRegion,
	"aws_partition":           readPartition,
	"aws_availability_zones":  readAvailabilityZones,
}

// read answers a data source: the computed reader's values where there is
// one, then known placeholders for every computed attribute still unset.
func (s *Server) read(typeName string, b *tfprotov5.SchemaBlock, cfg tftypes.Value) (tftypes.Value, []*tfprotov5.Diagnostic) {
	if r := readers[typeName]; r != nil && s.aws {
		var attrs map[string]tftypes.Value
		if err := cfg.As(&attrs); err != nil {
			return cfg, diagsOf(err)
		}
		set, err := r(s, attrs)
		if err != nil {
			return cfg, []*tfprotov5.Diagnostic{errorDiag("Invalid "+typeName, err.Error(), nil)}
		}
		for k, v := range set {
			if _, ok := attrs[k]; !ok {
				return cfg, diagsOf(fmt.Errorf("%s: reader set unknown attribute %q", typeName, k))
			}
			attrs[k] = v
		}
		cfg = tftypes.NewValue(cfg.Type(), attrs)
	}
	v, err := s.fillComputed(typeName, b, cfg)
	if err != nil {
		return cfg, diagsOf(err)
	}
	return v, nil
}

// fillComputed replaces every unset computed attribute with a known
// placeholder of its type.
func (s *Server) fillComputed(typeName string, b *tfprotov5.SchemaBlock, v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(path *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		a := attributeAt(b, path)
		if a == nil || !a.Computed || !v.IsNull() || a.WriteOnly {
			return v, nil
		}
		return s.placeholder(typeName, a.Name, a.Type), nil
	})
}

// placeholder is a known value of type t: ARNs for *arn attributes, the
// account and region where their names say so, empty collections.
func (s *Server) placeholder(typeName, name string, t tftypes.Type) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		switch {
		case name == "arn" || strings.HasSuffix(name, "_arn"):
			return tftypes.NewValue(t, fmt.Sprintf("arn:%s:%s:%s:%s:%s/placeholder", s.partition().name, service(typeName), s.region, AccountID, strings.TrimSuffix(name, "_arn")))
		case name == "account_id" || name == "owner_id":
			return tftypes.NewValue(t, AccountID)
		case name == "region":
			return tftypes.NewValue(t, s.region)
		}
		return tftypes.NewValue(t, "placeholder")
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, big.NewFloat(0))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, false)
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		return tftypes.NewValue(t, []tftypes.Value{})
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, map[string]tftypes.Value{})
	case t.Is(tftypes.Object{}):
		o := t.(tftypes.Object)
		attrs := make(map[string]tftypes.Value, len(o.AttributeTypes))
		for k, at := range o.AttributeTypes {
			attrs[k] = s.placeholder(typeName, k, at)
		}
		return tftypes.NewValue(t, attrs)
	case t.Is(tftypes.Tuple{}):
		tt := t.(tftypes.Tuple)
		elems := make([]tftypes.Value, len(tt.ElementTypes))
		for i, et := range tt.ElementTypes {
			elems[i] = s.placeholder(typeName, name, et)
		}
		return tftypes.NewValue(t, elems)
	}
	return tftypes.NewValue(t, nil)
}

// service guesses the ARN service of a type: aws_sqs_queue -> sqs.
func service(typeName string) string {
	parts := strings.SplitN(typeName, "_", 3)
	if len(parts) < 2 {
		return typeName
	}
	return parts[1]
}

type partition struct{ name, dnsSuffix string }

// partition is the AWS partition of the provider's region.
func (s *Server) partition() partition {
	switch r := s.region; {
	case strings.HasPrefix(r, "cn-"):
		return partition{"aws-cn", "amazonaws.com.cn"}
	case strings.HasPrefix(r, "us-gov-"):
		return partition{"aws-us-gov", "amazonaws.com"}
	case strings.HasPrefix(r, "us-isob-"):
		return partition{"aws-iso-b", "sc2s.sgov.gov"}
	case strings.HasPrefix(r, "us-iso-"):
		return partition{"aws-iso", "c2s.ic.gov"}
	case strings.HasPrefix(r, "eusc-"):
		return partition{"aws-eusc", "amazonaws.eu"}
	}
	return partition{"aws", "amazonaws.com"}
}

func stringValue(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func readCallerIdentity(s *Server, _ map[string]tftypes.Value) (map[string]tftypes.Value, error) {
	return map[string]tftypes.Value{
		"id":         stringValue(AccountID),
		"account_id": stringValue(AccountID),
		"arn":        stringValue(fmt.Sprintf("arn:%s:iam::%s:user/terraform", s.partition().name, AccountID)),
		"user_id":    stringValue("AIDACKCEVSQ6C2EXAMPLE"),
	}, nil
}

func readPartition(s *Server, _ map[string]tftypes.Value) (map[string]tftypes.Value, error) {
	p := s.partition()
	labels := strings.Split(p.dnsSuffix, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return map[string]tftypes.Value{
		"id":                 stringValue(p.name),
		"partition":          stringValue(p.name),
		"dns_suffix":         stringValue(p.dnsSuffix),
		"reverse_dns_prefix": stringValue(strings.Join(labels, ".")),
	}, nil
}

// regionNames are the descriptions the aws provider's endpoint data gives.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)", "eu-west-3": "Europe (Paris)",
	"eu-central-1": "Europe (Frankfurt)", "eu-central-2": "Europe (Zurich)", "eu-north-1": "Europe (Stockholm)",
	"eu-south-1": "Europe (Milan)", "eu-south-2": "Europe (Spain)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)", "ap-northeast-3": "Asia Pacific (Osaka)",
	"ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)",
	"ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
}

// readRegion: aws v6 answers the provider's region unless region (or the
// deprecated name / id) selects another.
func readRegion(s *Server, cfg map[string]tftypes.Value) (map[string]tftypes.Value, error) {
	r := firstNonEmpty(str(cfg["region"]), str(cfg["name"]), str(cfg["id"]), s.region)
	if !strings.Contains(r, "-") {
		return nil, fmt.Errorf("region %q is not an AWS Region", r)
	}
	return map[string]tftypes.Value{
		"id":          stringValue(r),
		"name":        stringValue(r),
		"region":      stringValue(r),
		"endpoint":    stringValue("ec2." + r + "." + s.partition().dnsSuffix),
		"description": stringValue(regionNames[r]),
	}, nil
}

// readAvailabilityZones answers three zones, a to c, as most regions have.
func readAvailabilityZones(s *Server, cfg map[string]tftypes.Value) (map[string]tftypes.Value, error) {
	short := strings.NewReplacer("north", "n", "south", "s", "east", "e", "west", "w", "central", "c").Replace(strings.ReplaceAll(s.region, "-", ""))
	var names, ids []tftypes.Value
	for i, z := range []string{"a", "b", "c"} {
		names = append(names, stringValue(s.region+z))
		ids = append(ids, stringValue(fmt.Sprintf("%s-az%d", short, i+1)))
	}
	list := tftypes.List{ElementType: tftypes.String}
	out := map[string]tftypes.Value{
		"id":       stringValue(s.region),
		"names":    tftypes.NewValue(list, names),
		"zone_ids": tftypes.NewValue(list, ids),
	}
	if v, ok := cfg["group_names"]; ok {
		out["group_names"] = tftypes.NewValue(v.Type(), []tftypes.Value{stringValue(s.region)})
	}
	return out, nil
}
