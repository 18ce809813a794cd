# The ingress rules are keyed by the clients' static names; the security
# group IDs, known only after apply, are only in the values. (Keyed on the
# IDs, Terraform could not plan: "Invalid for_each argument".)

provider "aws" {
  region = "eu-west-1"
}

run "group_id_known_only_after_apply" {
  command = plan

  module {
    source = "./tests/unknown-group"
  }
}

run "rules_keyed_by_name" {
  command = plan

  variables {
    name_prefix            = "t"
    vpc_id                 = "vpc-12345678"
    subnet_ids             = ["subnet-a", "subnet-b"]
    client_security_groups = { eks-nodes = "sg-0123456789abcdef0", bastion = "sg-0fedcba9876543210" }
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/test"
  }

  assert {
    condition     = { for k, r in aws_vpc_security_group_ingress_rule.clients : k => r.referenced_security_group_id } == { eks-nodes = "sg-0123456789abcdef0", bastion = "sg-0fedcba9876543210" }
    error_message = "one rule per client, keyed by its name, referencing its group"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.clients : r.from_port == 5432 && r.to_port == 5432])
    error_message = "clients may connect on 5432 only"
  }
}
