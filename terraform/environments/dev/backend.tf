# State in S3 with native locking (use_lockfile). The bucket and region come
# from backend.hcl: terraform init -backend-config=backend.hcl
terraform {
  backend "s3" {
    key          = "eventplane/dev/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
