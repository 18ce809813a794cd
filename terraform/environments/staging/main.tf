# staging: production-shaped, smaller; data protected so rehearsals are real.
module "platform" {
  source = "../.."

  topology = var.topology

  environment  = "staging"
  protect_data = true
  alert_emails = var.alert_emails

  eks = {
    single_nat_gateway  = true
    public_access_cidrs = var.eks_public_access_cidrs
    instance_types      = ["m7g.large"]
    min_size            = 2
    max_size            = 4
    desired_size        = 2
  }
  rds = { enabled = true, instance_class = "db.t4g.medium", multi_az = false, backup_retention_days = 7 }
  api = {
    authorization = var.api_jwt_issuer == null ? "AWS_IAM" : "JWT"
    jwt_issuer    = var.api_jwt_issuer
    jwt_audience  = var.api_jwt_audience
    jwt_scopes    = var.api_jwt_scopes
    rate_limit    = 100
    burst_limit   = 200
  }
  log_retention_days = 30
}
