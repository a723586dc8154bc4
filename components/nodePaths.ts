/** Paths on the nodes that several parts of the program (and the node scripts' inputs) agree on. */

/** The pgsql agent's working directory (PGSQL.lock, recovery.conf); os steps create it for postgres. */
export const PGSQL_TMPDIR = "/var/lib/pgsql/tmp";
/** Password file of the replication role, readable by postgres only, on every node. */
export const PGPASS_FILE = "/var/lib/pgsql/.pgpass";
/** Root-only file holding the fence user's password on every node. */
export const FENCE_PASSWORD_FILE = "/etc/pgha/fence.password";
/** The node's own configuration for its tools and resource agent (read while its cluster stack is down too). */
export const CLUSTER_CONF_PATH = "/etc/pgha/cluster.conf";
/** Where the tools step installs the node's scripts, which find the libraries they load beside them. */
export const NODE_LIBRARY_DIR = "/usr/local/lib/pgha";
/** The pg_ctl the pgsql resource agent runs (scripts/pg-ctl.sh, installed by the tools step: a promote that waits). */
export const AGENT_PG_CTL = `${NODE_LIBRARY_DIR}/pg-ctl.sh`;
