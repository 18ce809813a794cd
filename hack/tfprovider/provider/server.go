// Package provider is a schema-only Terraform provider: it serves the real
// provider's schemas (package schemas), validates configuration against
// them, plans every resource the way the real provider does before apply
// (computed attributes unknown) and answers data sources with known values —
// the real results for the data sources whose answer is known at plan time
// in the cloud (aws_iam_policy_document, aws_caller_identity, aws_region,
// aws_partition, aws_availability_zones), placeholders for the others.
// It cannot apply: ApplyResourceChange is an error.
package provider

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/eventplane/eventplane/hack/tfprovider/schemas"
)

// AccountID is the account every plan runs in (the AWS documentation's
// example account).
const AccountID = "123456789012"

// Server implements tfprotov5.ProviderServer for one provider's schemas.
type Server struct {
	schemas *schemas.Provider
	aws     bool // the hashicorp/aws provider: region, default tags, data sources

	region      string
	defaultTags map[string]tftypes.Value
}

var _ tfprotov5.ProviderServer = (*Server)(nil)

// New returns a server for p.
func New(p *schemas.Provider) *Server {
	return &Server{schemas: p, aws: strings.HasSuffix(p.Address, "/aws")}
}

func errorDiag(summary, detail string, path *tftypes.AttributePath) *tfprotov5.Diagnostic {
	return &tfprotov5.Diagnostic{Severity: tfprotov5.DiagnosticSeverityError, Summary: summary, Detail: detail, Attribute: path}
}

func diagsOf(err error) []*tfprotov5.Diagnostic {
	return []*tfprotov5.Diagnostic{errorDiag("Schema provider error", err.Error(), nil)}
}

func decode(dv *tfprotov5.DynamicValue, s *tfprotov5.Schema) (tftypes.Value, error) {
	if dv == nil {
		return tftypes.NewValue(s.ValueType(), nil), nil
	}
	return dv.Unmarshal(s.ValueType())
}

func encode(s *tfprotov5.Schema, v tftypes.Value) (*tfprotov5.DynamicValue, error) {
	dv, err := tfprotov5.NewDynamicValue(s.ValueType(), v)
	if err != nil {
		return nil, err
	}
	return &dv, nil
}

func (s *Server) lookup(k schemas.Kind, name string) (*tfprotov5.Schema, []*tfprotov5.Diagnostic) {
	sc, err := s.schemas.Schema(k, name)
	if err != nil {
		return nil, diagsOf(err)
	}
	if sc == nil {
		return nil, []*tfprotov5.Diagnostic{errorDiag("Unknown "+string(k)+" type", fmt.Sprintf("%s has no %s type %q", s.schemas.Address, k, name), nil)}
	}
	return sc, nil
}

func (s *Server) resource(name string) (*tfprotov5.Schema, []*tfprotov5.Diagnostic) {
	return s.lookup(schemas.Resource, name)
}

func (s *Server) dataSource(name string) (*tfprotov5.Schema, []*tfprotov5.Diagnostic) {
	return s.lookup(schemas.DataSource, name)
}

// GetMetadata lists the types without their schemas.
func (s *Server) GetMetadata(context.Context, *tfprotov5.GetMetadataRequest) (*tfprotov5.GetMetadataResponse, error) {
	resp := &tfprotov5.GetMetadataResponse{ServerCapabilities: capabilities}
	for _, n := range s.schemas.Names(schemas.Resource) {
		resp.Resources = append(resp.Resources, tfprotov5.ResourceMetadata{TypeName: n})
	}
	for _, n := range s.schemas.Names(schemas.DataSource) {
		resp.DataSources = append(resp.DataSources, tfprotov5.DataSourceMetadata{TypeName: n})
	}
	for _, n := range s.schemas.Names(schemas.EphemeralResource) {
		resp.EphemeralResources = append(resp.EphemeralResources, tfprotov5.EphemeralResourceMetadata{TypeName: n})
	}
	for n := range s.schemas.Functions {
		resp.Functions = append(resp.Functions, tfprotov5.FunctionMetadata{Name: n})
	}
	return resp, nil
}

// GetProviderSchemaOptional lets Terraform reuse the schema it fetched from
// the first instance (as the real aws provider allows): decoding 1,666
// resource schemas costs Terraform seconds each time.
var capabilities = &tfprotov5.ServerCapabilities{PlanDestroy: true, GetProviderSchemaOptional: true}

// GetProviderSchema serves the schemas exactly as the file holds them.
func (s *Server) GetProviderSchema(context.Context, *tfprotov5.GetProviderSchemaRequest) (*tfprotov5.GetProviderSchemaResponse, error) {
	resp := &tfprotov5.GetProviderSchemaResponse{ServerCapabilities: capabilities, Provider: s.schemas.Provider, Functions: s.schemas.Functions}
	var err error
	if resp.ResourceSchemas, err = s.schemas.All(schemas.Resource); err == nil {
		if resp.DataSourceSchemas, err = s.schemas.All(schemas.DataSource); err == nil {
			resp.EphemeralResourceSchemas, err = s.schemas.All(schemas.EphemeralResource)
		}
	}
	if err != nil {
		resp.Diagnostics = diagsOf(err)
	}
	return resp, nil
}

// GetResourceIdentitySchemas answers with none: the file holds none.
func (s *Server) GetResourceIdentitySchemas(context.Context, *tfprotov5.GetResourceIdentitySchemasRequest) (*tfprotov5.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov5.GetResourceIdentitySchemasResponse{}, nil
}

// PrepareProviderConfig validates the provider block against its schema.
func (s *Server) PrepareProviderConfig(_ context.Context, req *tfprotov5.PrepareProviderConfigRequest) (*tfprotov5.PrepareProviderConfigResponse, error) {
	v, err := decode(req.Config, s.schemas.Provider)
	if err != nil {
		return &tfprotov5.PrepareProviderConfigResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.PrepareProviderConfigResponse{PreparedConfig: req.Config, Diagnostics: Validate(s.schemas.Provider.Block, v)}, nil
}

// ConfigureProvider keeps what plans depend on: the AWS region (as the real
// provider, from the region argument or AWS_REGION / AWS_DEFAULT_REGION;
// required) and the default tags.
func (s *Server) ConfigureProvider(_ context.Context, req *tfprotov5.ConfigureProviderRequest) (*tfprotov5.ConfigureProviderResponse, error) {
	if !s.aws {
		return &tfprotov5.ConfigureProviderResponse{}, nil
	}
	v, err := decode(req.Config, s.schemas.Provider)
	if err != nil {
		return &tfprotov5.ConfigureProviderResponse{Diagnostics: diagsOf(err)}, nil
	}
	attrs := map[string]tftypes.Value{}
	if v.IsKnown() && !v.IsNull() {
		if err := v.As(&attrs); err != nil {
			return &tfprotov5.ConfigureProviderResponse{Diagnostics: diagsOf(err)}, nil
		}
	}
	s.region = str(attrs["region"])
	if s.region == "" {
		s.region = firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	}
	if s.region == "" && !attrs["region"].IsKnown() {
		s.region = "us-east-1" // unknown until apply; plans go on with a known one
	}
	if s.region == "" {
		return &tfprotov5.ConfigureProviderResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Missing region value",
			"The AWS provider needs a region: set region in the provider block, or AWS_REGION.", tftypes.NewAttributePath().WithAttributeName("region"))}}, nil
	}
	if dt, ok := attrs["default_tags"]; ok && dt.IsKnown() && !dt.IsNull() {
		var blocks []tftypes.Value
		if err := dt.As(&blocks); err == nil && len(blocks) == 1 {
			var b map[string]tftypes.Value
			if err := blocks[0].As(&b); err == nil && b["tags"].IsKnown() && !b["tags"].IsNull() {
				_ = b["tags"].As(&s.defaultTags)
			}
		}
	}
	return &tfprotov5.ConfigureProviderResponse{}, nil
}

// StopProvider has nothing to stop.
func (s *Server) StopProvider(context.Context, *tfprotov5.StopProviderRequest) (*tfprotov5.StopProviderResponse, error) {
	return &tfprotov5.StopProviderResponse{}, nil
}

// ValidateResourceTypeConfig checks the configuration against the schema.
func (s *Server) ValidateResourceTypeConfig(_ context.Context, req *tfprotov5.ValidateResourceTypeConfigRequest) (*tfprotov5.ValidateResourceTypeConfigResponse, error) {
	sc, diags := s.resource(req.TypeName)
	if diags != nil {
		return &tfprotov5.ValidateResourceTypeConfigResponse{Diagnostics: diags}, nil
	}
	v, err := decode(req.Config, sc)
	if err != nil {
		return &tfprotov5.ValidateResourceTypeConfigResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.ValidateResourceTypeConfigResponse{Diagnostics: Validate(sc.Block, v)}, nil
}

// UpgradeResourceState reads a stored state of the current schema version.
func (s *Server) UpgradeResourceState(_ context.Context, req *tfprotov5.UpgradeResourceStateRequest) (*tfprotov5.UpgradeResourceStateResponse, error) {
	sc, diags := s.resource(req.TypeName)
	if diags != nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: diags}, nil
	}
	v, err := req.RawState.UnmarshalWithOpts(sc.ValueType(), tfprotov5.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: diagsOf(err)}, nil
	}
	dv, err := encode(sc, v)
	if err != nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.UpgradeResourceStateResponse{UpgradedState: dv}, nil
}

// ReadResource returns the stored state: there is no cloud to refresh from.
func (s *Server) ReadResource(_ context.Context, req *tfprotov5.ReadResourceRequest) (*tfprotov5.ReadResourceResponse, error) {
	return &tfprotov5.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

// PlanResourceChange plans as the real provider does before apply.
func (s *Server) PlanResourceChange(_ context.Context, req *tfprotov5.PlanResourceChangeRequest) (*tfprotov5.PlanResourceChangeResponse, error) {
	sc, diags := s.resource(req.TypeName)
	if diags != nil {
		return &tfprotov5.PlanResourceChangeResponse{Diagnostics: diags}, nil
	}
	prior, err := decode(req.PriorState, sc)
	if err != nil {
		return &tfprotov5.PlanResourceChangeResponse{Diagnostics: diagsOf(err)}, nil
	}
	proposed, err := decode(req.ProposedNewState, sc)
	if err != nil {
		return &tfprotov5.PlanResourceChangeResponse{Diagnostics: diagsOf(err)}, nil
	}
	planned, err := s.plan(sc.Block, prior, proposed)
	if err != nil {
		return &tfprotov5.PlanResourceChangeResponse{Diagnostics: diagsOf(err)}, nil
	}
	dv, err := encode(sc, planned)
	if err != nil {
		return &tfprotov5.PlanResourceChangeResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.PlanResourceChangeResponse{PlannedState: dv, PlannedPrivate: req.PriorPrivate}, nil
}

// ApplyResourceChange cannot create anything: this provider only plans.
func (s *Server) ApplyResourceChange(_ context.Context, req *tfprotov5.ApplyResourceChangeRequest) (*tfprotov5.ApplyResourceChangeResponse, error) {
	return &tfprotov5.ApplyResourceChangeResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Schema-only provider",
		fmt.Sprintf("%s: this provider serves %s's schemas for offline plans and cannot apply", req.TypeName, s.schemas.Address), nil)}}, nil
}

// ImportResourceState cannot read the cloud.
func (s *Server) ImportResourceState(_ context.Context, req *tfprotov5.ImportResourceStateRequest) (*tfprotov5.ImportResourceStateResponse, error) {
	return &tfprotov5.ImportResourceStateResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Schema-only provider",
		fmt.Sprintf("%s: this provider cannot import", req.TypeName), nil)}}, nil
}

// MoveResourceState is not supported (the capability is off).
func (s *Server) MoveResourceState(context.Context, *tfprotov5.MoveResourceStateRequest) (*tfprotov5.MoveResourceStateResponse, error) {
	return &tfprotov5.MoveResourceStateResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Schema-only provider", "moving resource state is not supported", nil)}}, nil
}

// UpgradeResourceIdentity fails: there are no identity schemas.
func (s *Server) UpgradeResourceIdentity(context.Context, *tfprotov5.UpgradeResourceIdentityRequest) (*tfprotov5.UpgradeResourceIdentityResponse, error) {
	return &tfprotov5.UpgradeResourceIdentityResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Schema-only provider", "no resource identity schemas", nil)}}, nil
}

// GenerateResourceConfig is not supported (the capability is off).
func (s *Server) GenerateResourceConfig(context.Context, *tfprotov5.GenerateResourceConfigRequest) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{Diagnostics: []*tfprotov5.Diagnostic{errorDiag("Schema-only provider", "config generation is not supported", nil)}}, nil
}

// ValidateDataSourceConfig checks the configuration against the schema.
func (s *Server) ValidateDataSourceConfig(_ context.Context, req *tfprotov5.ValidateDataSourceConfigRequest) (*tfprotov5.ValidateDataSourceConfigResponse, error) {
	sc, diags := s.dataSource(req.TypeName)
	if diags != nil {
		return &tfprotov5.ValidateDataSourceConfigResponse{Diagnostics: diags}, nil
	}
	v, err := decode(req.Config, sc)
	if err != nil {
		return &tfprotov5.ValidateDataSourceConfigResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.ValidateDataSourceConfigResponse{Diagnostics: Validate(sc.Block, v)}, nil
}

// ReadDataSource answers with known values (see the package comment).
func (s *Server) ReadDataSource(_ context.Context, req *tfprotov5.ReadDataSourceRequest) (*tfprotov5.ReadDataSourceResponse, error) {
	sc, diags := s.dataSource(req.TypeName)
	if diags != nil {
		return &tfprotov5.ReadDataSourceResponse{Diagnostics: diags}, nil
	}
	cfg, err := decode(req.Config, sc)
	if err != nil {
		return &tfprotov5.ReadDataSourceResponse{Diagnostics: diagsOf(err)}, nil
	}
	state, diags := s.read(req.TypeName, sc.Block, cfg)
	if diags != nil {
		return &tfprotov5.ReadDataSourceResponse{Diagnostics: diags}, nil
	}
	dv, err := encode(sc, state)
	if err != nil {
		return &tfprotov5.ReadDataSourceResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.ReadDataSourceResponse{State: dv}, nil
}

// GetFunctions serves the provider functions' signatures.
func (s *Server) GetFunctions(context.Context, *tfprotov5.GetFunctionsRequest) (*tfprotov5.GetFunctionsResponse, error) {
	return &tfprotov5.GetFunctionsResponse{Functions: s.schemas.Functions}, nil
}

// CallFunction runs the aws provider's functions.
func (s *Server) CallFunction(_ context.Context, req *tfprotov5.CallFunctionRequest) (*tfprotov5.CallFunctionResponse, error) {
	f := s.schemas.Functions[req.Name]
	if f == nil {
		return &tfprotov5.CallFunctionResponse{Error: &tfprotov5.FunctionError{Text: "unknown function " + req.Name}}, nil
	}
	return callFunction(req.Name, f, req.Arguments), nil
}

// ValidateEphemeralResourceConfig checks the configuration against the schema.
func (s *Server) ValidateEphemeralResourceConfig(_ context.Context, req *tfprotov5.ValidateEphemeralResourceConfigRequest) (*tfprotov5.ValidateEphemeralResourceConfigResponse, error) {
	sc, diags := s.lookup(schemas.EphemeralResource, req.TypeName)
	if diags != nil {
		return &tfprotov5.ValidateEphemeralResourceConfigResponse{Diagnostics: diags}, nil
	}
	v, err := decode(req.Config, sc)
	if err != nil {
		return &tfprotov5.ValidateEphemeralResourceConfigResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.ValidateEphemeralResourceConfigResponse{Diagnostics: Validate(sc.Block, v)}, nil
}

// OpenEphemeralResource answers with placeholders.
func (s *Server) OpenEphemeralResource(_ context.Context, req *tfprotov5.OpenEphemeralResourceRequest) (*tfprotov5.OpenEphemeralResourceResponse, error) {
	sc, diags := s.lookup(schemas.EphemeralResource, req.TypeName)
	if diags != nil {
		return &tfprotov5.OpenEphemeralResourceResponse{Diagnostics: diags}, nil
	}
	cfg, err := decode(req.Config, sc)
	if err != nil {
		return &tfprotov5.OpenEphemeralResourceResponse{Diagnostics: diagsOf(err)}, nil
	}
	v, err := s.fillComputed(req.TypeName, sc.Block, cfg)
	if err != nil {
		return &tfprotov5.OpenEphemeralResourceResponse{Diagnostics: diagsOf(err)}, nil
	}
	dv, err := encode(sc, v)
	if err != nil {
		return &tfprotov5.OpenEphemeralResourceResponse{Diagnostics: diagsOf(err)}, nil
	}
	return &tfprotov5.OpenEphemeralResourceResponse{Result: dv}, nil
}

// RenewEphemeralResource has nothing to renew.
func (s *Server) RenewEphemeralResource(context.Context, *tfprotov5.RenewEphemeralResourceRequest) (*tfprotov5.RenewEphemeralResourceResponse, error) {
	return &tfprotov5.RenewEphemeralResourceResponse{}, nil
}

// CloseEphemeralResource has nothing to close.
func (s *Server) CloseEphemeralResource(context.Context, *tfprotov5.CloseEphemeralResourceRequest) (*tfprotov5.CloseEphemeralResourceResponse, error) {
	return &tfprotov5.CloseEphemeralResourceResponse{}, nil
}

func str(v tftypes.Value) string {
	if !v.IsKnown() || v.IsNull() || !v.Type().Is(tftypes.String) {
		return ""
	}
	var s string
	_ = v.As(&s)
	return s
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
