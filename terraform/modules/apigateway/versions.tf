terraform {
  required_version = ">= 1.9" # validation that refers to another variable

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.47, < 7.0"
    }
  }
}
