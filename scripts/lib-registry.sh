# Sourced by scripts that need a loopback registry: Debian's docker-registry
# (the CNCF distribution server), plain HTTP, storage in a temp dir.
#   start_registry PORT DIR   -> sets REGISTRY_PID; waits until it answers
start_registry() {
  local port=$1 dir=$2
  if curl -s "http://127.0.0.1:$port/v2/" > /dev/null; then
    echo "127.0.0.1:$port is in use; stop that server first" >&2
    return 1
  fi
  mkdir -p "$dir/storage"
  cat > "$dir/config.yml" <<CFG
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
http:
  addr: 127.0.0.1:$port
CFG
  docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/v2/" > /dev/null && return 0
    sleep 0.2
  done
  echo "registry on 127.0.0.1:$port did not start: $(cat "$dir/registry.log")" >&2
  return 1
}
