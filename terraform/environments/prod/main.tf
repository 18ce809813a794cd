# prod: one NAT gateway per zone, multi-AZ database, provisioned DynamoDB
# capacity with autoscaling, deletion protection, long log retention.
module "platform" {
  source = "../.."

  topology = var.topology

  environment  = "prod"
  protect_data = true
  alert_emails = var.alert_emails

  dynamodb = { billing_mode = "PROVISIONED", min_read = 10, max_read = 1000, min_write = 10, max_write = 1000 }
  eks = {
    single_nat_gateway  = false
    public_access_cidrs = var.eks_public_access_cidrs
    instance_types      = ["m7g.xlarge"]
    min_size            = 3
    max_size            = 12
    desired_size        = 3
  }
  rds = { enabled = true, instance_class = "db.r7g.large", multi_az = true, backup_retention_days = 30 }
  api = {
    authorization = var.api_jwt_issuer == null ? "AWS_IAM" : "JWT"
    jwt_issuer    = var.api_jwt_issuer
    jwt_audience  = var.api_jwt_audience
    jwt_scopes    = var.api_jwt_scopes
    rate_limit    = 1000
    burst_limit   = 2000
  }
  log_retention_days = 365
  alarm_thresholds   = { queue_depth = 5000, oldest_message_age_s = 600 }
  # X-Ray encryption is one setting per account and region: prod owns it.
  manage_xray_encryption = true
}
