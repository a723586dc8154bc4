/**
 * The project's configuration keys: one table that the program reads from, that Pulumi.yaml declares
 * (tests keep the two equal) and that the README documents. Keys live in the `pgha:` namespace.
 */

export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

export interface ConfigKey {
    /** Key name without the `pgha:` namespace. */
    readonly name: string;
    readonly type: ConfigKeyType;
    /**
     * Set with `pulumi config set --secret`; read as a secret, plain-text values refused. Pulumi.yaml marks
     * only required secrets `secret: true`: the engine refuses a default ("") for such keys.
     */
    readonly secret?: boolean;
    /** Element type of an array key. */
    readonly items?: "string" | "object";
    /** Default used when the stack does not set the key; absent for required keys and optional secrets. */
    readonly default?: string | number | boolean | readonly unknown[];
    readonly description: string;
}

export const CONFIG_KEYS: readonly ConfigKey[] = [
    // Topology
    { name: "hostMode", type: "string", default: "vsphere", description: "How hosts come to exist: `vsphere` clones a VM per node from a template; `existing` adopts hosts already running at the node IPs (no VM is created)." },
    { name: "nodes", type: "array", items: "object", description: "Cluster nodes, a list of `{name, ip}`. Names become hostnames and Pacemaker node names; the first node is the initial primary. At least 2, 3 recommended. Optional per node: `vmName` (the VM's name in vCenter, for fence_vmware_rest; default: the node name); `bmcAddress`, `bmcPort` (default 623) and `bmcUser` (default: pgha:fenceUser), the node's BMC for fence_ipmilan." },
    { name: "vipMaster", type: "string", description: "Read-write virtual IP (vip-master); follows the primary. Must be in the nodes' subnet." },
    { name: "vipSlave", type: "string", description: "Read-only virtual IP (vip-slave); follows the sync standby, falls back to the primary. Must be in the nodes' subnet." },
    { name: "prefixLength", type: "integer", default: 24, description: "Prefix length of the nodes' subnet (24 = 255.255.255.0); node IPs and VIPs must share it." },
    { name: "gateway", type: "string", default: "", description: "Default gateway given to cloned VMs (required in vsphere mode)." },
    { name: "dnsServers", type: "array", items: "string", default: [], description: "DNS servers given to cloned VMs." },
    { name: "domain", type: "string", default: "localdomain", description: "DNS domain given to cloned VMs." },
    { name: "nic", type: "string", default: "ens33", description: "Network interface on the nodes that carries the node IP and the VIPs." },
    { name: "clusterName", type: "string", default: "pgcluster", description: "Pacemaker/Corosync cluster name." },
    // SSH
    { name: "sshUser", type: "string", default: "root", description: "User for the SSH connections of every provisioning step; must be root or have password-less sudo as root." },
    { name: "sshPort", type: "integer", default: 22, description: "SSH port of the nodes." },
    { name: "sshPrivateKey", type: "string", secret: true, description: "Private key (PEM/OpenSSH text) for SSH to the nodes. Required. Set with `pulumi config set --secret pgha:sshPrivateKey < key`." },
    // VM sizing and vSphere placement
    { name: "vmCpus", type: "integer", default: 2, description: "vCPUs per VM (vsphere mode)." },
    { name: "vmMemoryMiB", type: "integer", default: 2048, description: "Memory per VM in MiB (vsphere mode)." },
    { name: "vmDiskGiB", type: "integer", default: 60, description: "System disk size per VM in GiB (vsphere mode); not smaller than the template's disk." },
    { name: "vsphereDatacenter", type: "string", default: "", description: "vSphere datacenter (required in vsphere mode)." },
    { name: "vsphereComputeCluster", type: "string", default: "", description: "vSphere compute cluster whose root resource pool receives the VMs; set this or vsphereResourcePool." },
    { name: "vsphereResourcePool", type: "string", default: "", description: "vSphere resource pool path for the VMs (e.g. `cluster1/Resources/db`); overrides vsphereComputeCluster." },
    { name: "vsphereDatastore", type: "string", default: "", description: "Datastore for the VMs' disks (required in vsphere mode)." },
    { name: "vsphereNetwork", type: "string", default: "", description: "Port group the VMs' NIC connects to (required in vsphere mode)." },
    { name: "vsphereFolder", type: "string", default: "", description: "VM folder, relative to the datacenter's vm folder; empty: the datacenter's root VM folder." },
    { name: "protect", type: "boolean", default: true, description: "Protect the cluster's VMs (vsphere mode) so that `pulumi destroy` or a change that would replace a VM is refused; set false (and `pulumi up`) before destroying a cluster on purpose. On existing hosts `pulumi destroy` stops the cluster and removes its configuration but never touches PGDATA, the WAL archive or the packages." },
    { name: "vsphereTemplate", type: "string", default: "", description: "CentOS 7.9 template to clone (open-vm-tools and perl installed for guest customization); required in vsphere mode." },
    // Operating system
    { name: "firewall", type: "boolean", default: true, description: "Keep firewalld on and open exactly the cluster's ports (pcsd 2224/tcp, corosync 5404-5406/udp, pacemaker remote 3121/tcp, dlm 21064/tcp, PostgreSQL port); false stops and disables firewalld as the runbook did." },
    { name: "selinux", type: "string", default: "permissive", description: "SELinux mode on EL hosts: `enforcing`, `permissive` or `disabled` (the runbook's choice). Permissive by default because no policy is shipped for a source build under /postgresql; a change of mode to or from disabled needs a reboot." },
    { name: "yumBaseUrl", type: "string", default: "https://vault.centos.org/7.9.2009", description: "Base URL of the CentOS 7.9 repositories (os, updates, extras); CentOS 7 is end of life, so the vault or an internal mirror of it." },
    { name: "epelBaseUrl", type: "string", default: "https://archives.fedoraproject.org/pub/archive/epel/7", description: "Base URL of the EPEL 7 archive or mirror (EL hosts; used only for build dependencies the base repos lack)." },
    // PostgreSQL
    { name: "postgresqlInstall", type: "string", default: "source", description: "`source`: build PostgreSQL from the source tarball into postgresqlPrefix (the runbook); `package`: install the distribution's packages (Debian: postgresql-<major>; EL: PGDG postgresql<major>-server, repository configured beforehand)." },
    { name: "postgresqlVersion", type: "string", default: "14.6", description: "PostgreSQL version: full version for source builds (14.6); the major version (15) for package installs." },
    { name: "postgresqlPrefix", type: "string", default: "/postgresql/pg14", description: "Absolute install prefix; binaries are in <prefix>/bin. For package installs the package's prefix, e.g. /usr/lib/postgresql/15 on Debian." },
    { name: "pgdata", type: "string", default: "/postgresql/pgdata", description: "Absolute path of the data directory (PGDATA)." },
    { name: "archiveDir", type: "string", default: "/postgresql/arch", description: "Absolute path of the local WAL archive directory (archive_command copies there and never overwrites)." },
    { name: "postgresqlPort", type: "integer", default: 5432, description: "PostgreSQL port on the nodes and the VIPs." },
    { name: "postgresqlSourceUrl", type: "string", default: "https://ftp.postgresql.org/pub/source/v14.6/postgresql-14.6.tar.bz2", description: "URL of the PostgreSQL source tarball (source installs)." },
    { name: "postgresqlSourceSha256", type: "string", default: "", description: "SHA-256 of the PostgreSQL source tarball (64 hex digits); required for source installs unless allowUnverifiedDownloads is true." },
    { name: "postgresqlBuildDocs", type: "boolean", default: true, description: "true: `make world` / `install-world` as the runbook (needs docbook tools); false: core and contrib only." },
    { name: "postgresUid", type: "integer", default: 666, description: "uid of the postgres user created on every node (the runbook's 666); the same on every node so data directories move between nodes." },
    { name: "postgresGid", type: "integer", default: 666, description: "gid of the postgres group." },
    { name: "walKeepSizeMb", type: "integer", default: 10240, description: "wal_keep_size in MB (the runbook's 10240)." },
    { name: "replicationUser", type: "string", default: "replicator", description: "Replication role created with REPLICATION LOGIN; its password comes from replicationPassword." },
    { name: "allowedClientCidrs", type: "array", items: "string", default: [], description: "CIDRs allowed to connect to PostgreSQL (scram-sha-256) besides the nodes; empty: the nodes' subnet." },
    // Resource agents
    { name: "resourceAgentsVersion", type: "string", default: "4.12.0", description: "resource-agents version built from source on EL hosts (the distribution's agents on EL7 do not support PostgreSQL 12+). Debian 12 hosts use the distribution's package (4.12.0)." },
    { name: "resourceAgentsUrl", type: "string", default: "https://github.com/ClusterLabs/resource-agents/archive/refs/tags/v4.12.0.tar.gz", description: "URL of the resource-agents source tarball; it must unpack to resource-agents-<version>/." },
    { name: "resourceAgentsSha256", type: "string", default: "", description: "SHA-256 of the resource-agents tarball; required unless allowUnverifiedDownloads is true." },
    { name: "allowUnverifiedDownloads", type: "boolean", default: false, description: "Opt-out: build from tarballs whose sha256 is not configured. Not for production." },
    // Passwords (generated with random.RandomPassword when not set)
    { name: "haclusterPassword", type: "string", secret: true, default: "", description: "Password of the hacluster user (pcsd authentication). Optional: generated when not set, exported as a secret output." },
    { name: "postgresPassword", type: "string", secret: true, default: "", description: "Password of the postgres superuser. Optional: generated when not set, exported as a secret output." },
    { name: "replicationPassword", type: "string", secret: true, default: "", description: "Password of the replication role. Optional: generated when not set, exported as a secret output." },
    // Pacemaker resources
    { name: "repMode", type: "string", default: "sync", description: "pgsql agent rep_mode: `sync` (one synchronous standby, no acknowledged commit lost on failover) or `async`." },
    { name: "pgsqlMonitorIntervalSeconds", type: "integer", default: 3, description: "Monitor interval of unpromoted pgsql instances. 3 s instead of the runbook's 11 s: the agent elects a primary after 3 monitors of every standby (xlog_check_count), so this sets how long a cluster start or a full restart takes to accept writes; each monitor costs a few psql and crm_attribute calls." },
    { name: "pgsqlPromotedMonitorIntervalSeconds", type: "integer", default: 1, description: "Monitor interval of the promoted pgsql instance. 1 s instead of the runbook's 10 s: it bounds how long a dead or stopped primary goes unnoticed (half of it on average) and how long commits wait when the sync standby dies (the primary's monitor hands the sync role to the other standby); a monitor costs about a tenth of a CPU second." },
    { name: "pgsqlMonitorTimeoutSeconds", type: "integer", default: 10, description: "Timeout of pgsql monitor operations. 10 s instead of the runbook's 30 s: a hung primary (one that accepts no connection) is found after this long, then fenced within seconds (ocf:pgha:pgsql fails its stop at once); it must stay above what a monitor takes on a loaded node." },
    { name: "pgsqlStartTimeoutSeconds", type: "integer", default: 120, description: "Timeout of pgsql start." },
    { name: "pgsqlStopTimeoutSeconds", type: "integer", default: 120, description: "Timeout of pgsql stop." },
    { name: "pgsqlPromoteTimeoutSeconds", type: "integer", default: 120, description: "Timeout of pgsql promote." },
    { name: "pgsqlDemoteTimeoutSeconds", type: "integer", default: 120, description: "Timeout of pgsql demote." },
    { name: "pgsqlNotifyTimeoutSeconds", type: "integer", default: 90, description: "Timeout of pgsql notify." },
    { name: "corosyncTokenMs", type: "integer", default: 1000, description: "Corosync's token timeout in ms: how long a node may be silent before the others declare it lost (then consensus, 1.2 times this, before the new membership), set with token_coefficient 0 (no increase per node). 1000 instead of pcs's 3000 plus 650 per node beyond two (the runbook's): a dead or cut-off node is noticed in about 2.2 s, not 8. Raise it for links that drop packets for a second or more. 0: pcs's defaults. Applied to an existing cluster with pcs cluster config update (pcs 0.10+)." },
    { name: "dcDeadtimeSeconds", type: "integer", default: 5, description: "How long a starting node waits for a cluster coordinator before electing one (Pacemaker's dc-deadtime). 5 s instead of Pacemaker's 20 s (the runbook's): a full stop and start of the cluster accepts writes sooner; quorum still guards the start." },
    { name: "walSenderTimeoutSeconds", type: "integer", default: 10, description: "wal_sender_timeout and wal_receiver_timeout in seconds: how long a primary waits on a vanished standby (a powered-off sync standby holds up synchronous commits this long at most) and a standby on a vanished primary. 10 s instead of PostgreSQL's 60 s (the runbook's)." },
    { name: "pgsqlFailureTimeoutSeconds", type: "integer", default: 30, description: "After PostgreSQL fails on a node, Pacemaker moves the primary away at once (migration-threshold=1; the runbook restarts it in place first, which the agent's PGSQL.lock makes fail anyway) and starts that node's instance again after this many seconds (failure-timeout), which rejoins it as a standby (pgha:autoRejoin). 0: the runbook's behaviour (no migration-threshold or failure-timeout: the node stays out until a person cleans it up)." },
    { name: "autoRejoin", type: "boolean", default: true, description: "A failed, fenced or partitioned old primary, or any node whose data left the primary's history, becomes a standby by itself when Pacemaker starts it again (at boot, after pgsqlFailureTimeoutSeconds, after a partition heals): rewound with pg_rewind (else copied afresh, the old data kept aside) when that loses no acknowledged transaction; refused, and reported by pgha-status, when the node was promoted later than the current primary or in a way it never saw. false: such a node stays out until pgha-rejoin-node runs on it." },
    { name: "vipMonitorIntervalSeconds", type: "integer", default: 5, description: "Monitor interval of the two IPaddr2 VIPs (the runbook's 5s)." },
    // Fencing
    { name: "fencingEnabled", type: "boolean", default: true, description: "Fence (power off and on) a failed or unreachable node before anything it ran is recovered elsewhere. Turning it off allows split brain; the program warns at preview and up." },
    { name: "fenceAgent", type: "string", default: "", description: "Fence agent: `fence_vmware_rest` (vCenter powers the node's VM; one device for all nodes) or `fence_ipmilan` (each node's BMC, IPMI 2.0 lanplus; one device per node, never run on the node it fences). Empty: fence_vmware_rest in vsphere mode, fence_ipmilan with existing hosts." },
    { name: "fenceVcenterAddress", type: "string", default: "", description: "vCenter address for fence_vmware_rest; empty: the vsphere provider's vsphere:vsphereServer." },
    { name: "fenceUser", type: "string", default: "", description: "User of the fence device: the vCenter user for fence_vmware_rest (needs only power operations on the cluster's VMs), the BMC user for fence_ipmilan (a node's `bmcUser` overrides it); required when fencing is on." },
    { name: "fencePassword", type: "string", secret: true, default: "", description: "Password of the fence user (BMCs: at most 20 characters, IPMI 2.0); required when fencing is on. Kept in a root-only file on each node that the fence devices read through password_script, never in the CIB, argv or logs." },
    { name: "fenceSslInsecure", type: "boolean", default: false, description: "Skip TLS certificate verification of vCenter for fencing (self-signed certificates)." },
    { name: "fencePowerWaitSeconds", type: "integer", default: 2, description: "fence_ipmilan: seconds to wait after a power off or on before polling the BMC (the agent's power_wait; 2 is the agent's default for BMCs whose status lags; 0 for BMCs that report the new state at once)." },
    { name: "fenceRaceDelaySeconds", type: "integer", default: 5, description: "Two-node split (each side still quorate): the side without the primary waits this long before it shoots, so that only one side does (priority-fencing-delay, with the promoted pgsql instance counting most; pcs 0.9 / Pacemaker 1.1: a random pcmk_delay_max of this length on two-node clusters). A side that holds the majority never waits." },
];

export function configKey(name: string): ConfigKey {
    const key = CONFIG_KEYS.find((k) => k.name === name);
    if (!key) {
        throw new Error(`unknown config key ${name}`);
    }
    return key;
}
