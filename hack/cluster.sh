#!/usr/bin/env bash
# A simulated Kubernetes cluster on loopback, for trying the chart the way it
# runs on EKS and for the KEDA end-to-end test — no Docker, no kubelet:
#
#   etcd, kube-apiserver (RBAC, aggregation layer), kube-controller-manager
#   (Deployments, ReplicaSets, HPA, garbage collector), kube-scheduler, kwok
#   with one fake node (pods go Running without a kubelet), KEDA's operator
#   and metrics adapter (built from the keda/v2 module), and moto server as
#   the SQS endpoint.
#
#   hack/cluster.sh up      start everything; prints the kubeconfig path last
#   hack/cluster.sh down    stop everything (by PID) and remove the state
#   hack/cluster.sh env     print KUBECONFIG=... and AWS_ENDPOINT_URL=... lines
#
# State (certificates, logs, PIDs, kubeconfig) lives in $EVENTPLANE_CLUSTER
# (default build/cluster). Binaries come from hack/kube.sh, hack/keda.sh and
# hack/tools.sh kwok (built on first use, then cached). Pods of the fake node
# need the toleration kwok.x-k8s.io/node=fake:NoSchedule (the chart's test
# values and `make cluster-values` set it).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
STATE="${EVENTPLANE_CLUSTER:-$REPO/build/cluster}"
cmd="${1:-}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop_all() {
  [[ -d "$STATE/pids" ]] || return 0
  for f in "$STATE"/pids/*; do
    [[ -f "$f" ]] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 2
  # kube-apiserver can take a minute to drain on SIGTERM; the state is
  # thrown away, so do not wait for it.
  for f in "$STATE"/pids/*; do
    [[ -f "$f" ]] || continue
    kill -9 "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

case "$cmd" in
  down)
    [[ -d "$STATE" ]] || { echo "no cluster state in $STATE"; exit 0; }
    stop_all
    rm -rf "$STATE"
    echo "cluster stopped"
    exit 0
    ;;
  env)
    cat "$STATE/env"
    exit 0
    ;;
  up) ;;
  *) echo "usage: hack/cluster.sh up|down|env" >&2; exit 2 ;;
esac

if [[ -f "$STATE/env" ]]; then
  echo "hack/cluster.sh: a cluster already runs from $STATE (hack/cluster.sh down first)" >&2
  exit 1
fi
for t in openssl python3 kubectl; do
  command -v "$t" >/dev/null || { echo "hack/cluster.sh: $t is missing (apt-get install -y $t)" >&2; exit 1; }
done
KUBE="$(hack/kube.sh | tail -1)"
KEDA="$(hack/keda.sh | tail -1)"
TOOLS="$(hack/tools.sh kwok | tail -1)"
MOTO="$(command -v moto_server || true)"
[[ -n "$MOTO" ]] || { hack/moto.sh >/dev/null; MOTO="$(command -v moto_server)"; }

mkdir -p "$STATE"/{pki,pids,logs,etcd,keda-certs}
trap 'echo "hack/cluster.sh: start failed; logs in $STATE/logs" >&2; stop_all' ERR
PKI="$STATE/pki"

# --- certificates ------------------------------------------------------------
ossl() { openssl "$@" >/dev/null 2>&1; }
ca() { ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" -keyout "$PKI/$1.key" -out "$PKI/$1.crt"; }
cert() { # name CN O ext
  local name=$1 cn=$2 o=$3 ext=$4 signer=${5:-ca}
  ossl req -newkey rsa:2048 -nodes -subj "/CN=$cn${o:+/O=$o}" -keyout "$PKI/$name.key" -out "$PKI/$name.csr"
  printf '%s\n' "$ext" > "$PKI/$name.ext"
  ossl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$signer.crt" -CAkey "$PKI/$signer.key" -CAcreateserial -days 30 \
    -extfile "$PKI/$name.ext" -out "$PKI/$name.crt"
}
ca ca eventplane-local-ca
ca front-proxy-ca eventplane-local-front-proxy-ca
cert apiserver kube-apiserver "" "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
cert admin admin system:masters "extendedKeyUsage=clientAuth"
cert front-proxy-client front-proxy-client "" "extendedKeyUsage=clientAuth" front-proxy-ca
# KEDA: one certificate for the operator's gRPC metrics service, the adapter's
# serving port and their mutual TLS.
cert keda keda "" "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:keda-operator.keda.svc
extendedKeyUsage=serverAuth,clientAuth"
cp "$PKI/keda.crt" "$STATE/keda-certs/tls.crt"; cp "$PKI/keda.key" "$STATE/keda-certs/tls.key"; cp "$PKI/ca.crt" "$STATE/keda-certs/ca.crt"
ossl genrsa -out "$PKI/sa.key" 2048
ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

ETCD_PORT=$(free_port); ETCD_PEER=$(free_port); API_PORT=$(free_port); MOTO_PORT=$(free_port)
KCM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)
KEDA_GRPC=$(free_port); KEDA_METRICS=$(free_port); KEDA_PROBE=$(free_port); ADAPTER_PORT=$(free_port); ADAPTER_METRICS=$(free_port)
KUBECONFIG_FILE="$STATE/kubeconfig"
kubectl config --kubeconfig "$KUBECONFIG_FILE" set-cluster local --server "https://127.0.0.1:$API_PORT" \
  --certificate-authority "$PKI/ca.crt" --embed-certs >/dev/null
kubectl config --kubeconfig "$KUBECONFIG_FILE" set-credentials admin --client-certificate "$PKI/admin.crt" \
  --client-key "$PKI/admin.key" --embed-certs >/dev/null
kubectl config --kubeconfig "$KUBECONFIG_FILE" set-context local --cluster local --user admin >/dev/null
kubectl config --kubeconfig "$KUBECONFIG_FILE" use-context local >/dev/null
export KUBECONFIG="$KUBECONFIG_FILE"

start() { # name command...
  local name=$1; shift
  "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! > "$STATE/pids/$name"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "hack/cluster.sh: $what did not come up in ${secs}s" >&2
  return 1
}

# --- control plane -------------------------------------------------------------
start etcd "$KUBE/etcd" --data-dir "$STATE/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-cluster "default=http://127.0.0.1:$ETCD_PEER"
start moto "$MOTO" -H 127.0.0.1 -p "$MOTO_PORT"
start kube-apiserver "$KUBE/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.0.0.0/24 \
  --authorization-mode Node,RBAC \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --enable-aggregator-routing=true
wait_for kube-apiserver 60 kubectl get --raw /readyz
start kube-controller-manager "$KUBE/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
  --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
  --controllers='*' --use-service-account-credentials=false --leader-elect=false \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --cert-dir "$STATE/pki/kcm" \
  --horizontal-pod-autoscaler-sync-period=5s --horizontal-pod-autoscaler-downscale-stabilization=10s
start kube-scheduler "$KUBE/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" \
  --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --cert-dir "$STATE/pki/sched"

# --- kwok and its fake node ------------------------------------------------------
KWOK_SRC="$(go mod download -json sigs.k8s.io/kwok@v0.8.0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
: > "$STATE/kwok.yaml"
for stage in node/fast node/heartbeat pod/general; do
  for f in "$KWOK_SRC/kustomize/stage/$stage"/*.yaml; do
    [[ "$(basename "$f")" == kustomization.yaml ]] && continue
    { echo "---"; cat "$f"; } >> "$STATE/kwok.yaml"
  done
done
start kwok "$TOOLS/kwok" --kubeconfig "$KUBECONFIG_FILE" --config "$STATE/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --server-address "127.0.0.1:$KWOK_PORT"
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
spec:
  taints:
    - key: kwok.x-k8s.io/node
      value: fake
      effect: NoSchedule
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110"}
  capacity: {cpu: "32", memory: 128Gi, pods: "110"}
EOF

# --- KEDA ----------------------------------------------------------------------
KEDA_SRC="$(go mod download -json github.com/kedacore/keda/v2@v2.21.0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
kubectl apply --server-side -f "$KEDA_SRC/config/crd/bases" >/dev/null
# (kubectl wait fails at once while a new CRD has no conditions yet: poll.)
wait_for "KEDA's CRDs established" 60 bash -c 'for c in scaledobjects.keda.sh triggerauthentications.keda.sh; do
  kubectl get crd "$c" -o jsonpath="{.status.conditions[?(@.type==\"Established\")].status}" | grep -q True || exit 1; done'
kubectl create namespace keda >/dev/null
POD_NAMESPACE=keda KEDA_CLUSTER_OBJECT_NAMESPACE=keda WATCH_NAMESPACE="" KEDA_HTTP_DEFAULT_TIMEOUT=3000 start keda "$KEDA/keda" \
  --leader-elect=false --zap-log-level=info \
  --metrics-bind-address "127.0.0.1:$KEDA_METRICS" --health-probe-bind-address "127.0.0.1:$KEDA_PROBE" \
  --metrics-service-bind-address "127.0.0.1:$KEDA_GRPC" --cert-dir "$STATE/keda-certs" \
  --enable-cert-rotation=false --enable-webhook-patching=false --enable-apiservice-patching=false
POD_NAMESPACE=keda KEDA_CLUSTER_OBJECT_NAMESPACE=keda WATCH_NAMESPACE="" start keda-adapter "$KEDA/keda-adapter" --secure-port "$ADAPTER_PORT" --bind-address 127.0.0.1 \
  --tls-cert-file "$STATE/keda-certs/tls.crt" --tls-private-key-file "$STATE/keda-certs/tls.key" \
  --cert-dir "$STATE/keda-certs" --metrics-service-address "127.0.0.1:$KEDA_GRPC" \
  --port "$ADAPTER_METRICS" \
  --kubeconfig "$KUBECONFIG_FILE" --authentication-kubeconfig "$KUBECONFIG_FILE" \
  --authorization-kubeconfig "$KUBECONFIG_FILE" --lister-kubeconfig "$KUBECONFIG_FILE"
# Route the external metrics API to the adapter on loopback: a selectorless
# Service and an FQDN EndpointSlice (IPv4 slices reject loopback addresses).
kubectl apply -f - >/dev/null 2>"$STATE/logs/apiservice.log" <<EOF
apiVersion: v1
kind: Service
metadata: {name: keda-metrics-apiserver, namespace: keda}
spec:
  ports: [{name: https, port: 443, targetPort: $ADAPTER_PORT, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: keda-metrics-apiserver-local
  namespace: keda
  labels: {kubernetes.io/service-name: keda-metrics-apiserver}
addressType: FQDN
endpoints: [{addresses: ["127.0.0.1"]}]
ports: [{name: https, port: $ADAPTER_PORT, protocol: TCP}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.external.metrics.k8s.io}
spec:
  service: {name: keda-metrics-apiserver, namespace: keda, port: 443}
  group: external.metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
wait_for "node kwok-node-0 Ready" 60 bash -c "kubectl get node kwok-node-0 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
wait_for "KEDA's external metrics API" 120 kubectl get --raw /apis/external.metrics.k8s.io/v1beta1
wait_for moto 30 python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/')"
trap - ERR

cat > "$STATE/env" <<EOF
KUBECONFIG=$KUBECONFIG_FILE
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_REGION=us-east-1
EOF
echo "cluster up: kubectl --kubeconfig $KUBECONFIG_FILE get nodes; SQS at http://127.0.0.1:$MOTO_PORT" >&2
echo "$KUBECONFIG_FILE"
