# dev: small, cheap, disposable. Data is not protected from deletion.
module "platform" {
  source = "../.."

  topology = var.topology

  environment  = "dev"
  protect_data = false
  alert_emails = var.alert_emails

  eks = {
    single_nat_gateway  = true
    public_access_cidrs = var.eks_public_access_cidrs
    instance_types      = ["t4g.large"]
    min_size            = 1
    max_size            = 3
    desired_size        = 1
  }
  rds = { enabled = false }
  api = {
    authorization = var.api_jwt_issuer == null ? "AWS_IAM" : "JWT"
    jwt_issuer    = var.api_jwt_issuer
    jwt_audience  = var.api_jwt_audience
    jwt_scopes    = var.api_jwt_scopes
    rate_limit    = 20
    burst_limit   = 40
  }
  log_retention_days = 7
  alarm_thresholds   = { queue_depth = 500, oldest_message_age_s = 1800 }
}
