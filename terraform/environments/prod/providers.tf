provider "aws" {
  region = var.region

  default_tags {
    tags = {
      "eventplane:managed-by" = "terraform"
    }
  }
}

# Installs KEDA into the cluster the platform module creates.
provider "helm" {
  kubernetes {
    host                   = module.platform.eks_cluster_endpoint
    cluster_ca_certificate = base64decode(module.platform.eks_cluster_ca_certificate)
    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.platform.eks_cluster_name, "--region", var.region]
    }
  }
}
