package config

// Variables are the environment variables Load reads for this proxy's own
// settings, in the order of the README's Configuration table. LinuxServer's
// socket-proxy variables are access.Variables; DOCKER_HOST is only
// PROXY_URL's default, DOCKER_CONFIG and HOME DOCKER_CERT_PATH's. Tests hold -h, the README table and the compose
// files to this list, and this list to what Load actually reads.
var Variables = []string{
	"PROXY_URL", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "CONTAINER_NAMES", "CONTAINER_LABELS", "SCRUB_ENVS",
	"PORT", "LISTEN", "LISTEN_SOCKET_MODE", "LISTEN_SOCKET_GROUP", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT", "METRICS_LISTEN",
	"INDEX_CAPACITY", "POLL_INTERVAL", "READ_ONLY", "MAX_BODY_SIZE", "BODY_TIMEOUT",
}
