# Fill in your state bucket (versioned, encrypted, in the platform's account)
# and its region, then: terraform init -backend-config=backend.hcl
bucket = "eventplane-terraform-state"
region = "eu-west-1"
