# The rds module with a client security group whose ID is known only after
# apply, as the root module passes the EKS nodes' group.
resource "aws_security_group" "nodes" {
  name        = "t-nodes"
  description = "Nodes"
  vpc_id      = "vpc-12345678"
}

module "rds" {
  source = "../.."

  name_prefix            = "t"
  vpc_id                 = "vpc-12345678"
  subnet_ids             = ["subnet-a", "subnet-b"]
  client_security_groups = { eks-nodes = aws_security_group.nodes.id }
  kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/test"
}
