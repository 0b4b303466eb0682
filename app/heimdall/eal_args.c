/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Work done before rte_eal_init(): the EAL command line heimdall really
 * passes (its own XDP program on af_xdp vdevs, a default --file-prefix,
 * --single-file-segments with virtio_user),
 * and the clean-up a heimdall killed with -9 leaves for the next one:
 * hugepage files and an XDP program still attached to the interface.
 *
 * Liveness is decided with flock()ed files in /var/run/heimdall: the kernel
 * drops a dead process's locks, so a lock we can take means nobody runs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd_app.h"
#include "hd_build_config.h"

#define RUN_DIR		"/var/run/heimdall"
#define DEFAULT_PREFIX	"heimdall"
#define AF_XDP_DRIVER	"net_af_xdp"

/* The virtio_user PMD, by name and by its alias. */
#define VIRTIO_USER_DRIVER "net_virtio_user"
#define VIRTIO_USER_ALIAS  "virtio_user"

struct eal_scan {
	const char *huge_dir;	/* --huge-dir, NULL: every hugetlbfs mount */
	int no_files;		/* --in-memory or --no-huge: no hugepage files */
	int has_prefix;
	int virtio_user;	/* a net_virtio_user vdev was given */
	int single_file;	/* --single-file-segments was given */
};

/* "--opt=value" or "--opt value": @return the value and advance *i, or NULL. */
static const char *
opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);

	if (strncmp(argv[*i], opt, len) != 0)
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] == '\0' && *i + 1 < argc) {
		(*i)++;
		return argv[*i];
	}
	return NULL;
}

static const char *
xdp_obj_path(const struct hd_config *cfg)
{
	if (cfg->xdp_prog[0] != '\0')
		return cfg->xdp_prog;
	/* Running from the build tree: the object next to the binary's build. */
	if (access(HD_XDP_OBJ_BUILD, R_OK) == 0)
		return HD_XDP_OBJ_BUILD;
	return HD_XDP_OBJ_INSTALLED;
}

/* Value of key @p key in a devargs string "name,k1=v1,k2=v2" into @p out. */
static int
devarg_get(const char *devargs, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = strchr(devargs, ',');

	while (p != NULL) {
		p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = strcspn(p + klen + 1, ",");

			if (vlen >= len)
				return -ENAMETOOLONG;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = strchr(p, ',');
	}
	return -ENOENT;
}

/* An af_xdp vdev gets heimdall's XDP program unless the user named one. */
static char *
vdev_rewrite(const char *vdev, const struct hd_config *cfg, struct hd_eal_args *ea)
{
	char iface[IF_NAMESIZE], prog[PATH_MAX], *out;
	const char *obj;

	if (strncmp(vdev, AF_XDP_DRIVER, strlen(AF_XDP_DRIVER)) != 0)
		return strdup(vdev);
	if (devarg_get(vdev, "iface", iface, sizeof(iface)) < 0) {
		fprintf(stderr, "heimdall: --vdev %s: an af_xdp port needs iface=IFNAME\n", vdev);
		return NULL;
	}
	if (ea->n_ifaces < RTE_DIM(ea->ifaces))
		snprintf(ea->ifaces[ea->n_ifaces++], IF_NAMESIZE, "%s", iface);
	if (devarg_get(vdev, "xdp_prog", prog, sizeof(prog)) == 0) {
		APP_LOG(WARNING, "%s: using your xdp_prog=%s; it must be built like drivers/xdp/heimdall_xdp.bpf.c "
			"(program %s, maps xsks_map, hd_v4, hd_v6, hd_conf)", iface, prog,
			HD_PORT_XDP_PROG_NAME);
		return strdup(vdev);
	}
	obj = xdp_obj_path(cfg);
	if (access(obj, R_OK) != 0) {
		fprintf(stderr, "heimdall: XDP object %s: %s (build it, or set --xdp-prog)\n", obj,
			strerror(errno));
		return NULL;
	}
	if (asprintf(&out, "%s,xdp_prog=%s", vdev, obj) < 0)
		return NULL;
	return out;
}

static int
push(struct hd_eal_args *ea, char *s)
{
	if (s == NULL)
		return -ENOMEM;
	ea->owned[ea->argc] = s;
	ea->argv[ea->argc++] = s;
	return 0;
}

static int
scan_one(int argc, char **argv, int *i, const struct hd_config *cfg,
	 struct hd_eal_args *ea, struct eal_scan *sc)
{
	const char *v;

	if ((v = opt_value(argc, argv, i, "--vdev")) != NULL) {
		if (strncmp(v, VIRTIO_USER_DRIVER, strlen(VIRTIO_USER_DRIVER)) == 0 ||
		    strncmp(v, VIRTIO_USER_ALIAS, strlen(VIRTIO_USER_ALIAS)) == 0)
			sc->virtio_user = 1;
		if (push(ea, strdup("--vdev")) < 0)
			return -ENOMEM;
		return push(ea, vdev_rewrite(v, cfg, ea));
	}
	if ((v = opt_value(argc, argv, i, "--file-prefix")) != NULL) {
		sc->has_prefix = 1;
		snprintf(ea->prefix, sizeof(ea->prefix), "%s", v);
		if (push(ea, strdup("--file-prefix")) < 0)
			return -ENOMEM;
		return push(ea, strdup(v));
	}
	if ((v = opt_value(argc, argv, i, "--huge-dir")) != NULL) {
		sc->huge_dir = v;
		if (push(ea, strdup("--huge-dir")) < 0)
			return -ENOMEM;
		return push(ea, strdup(v));
	}
	if (strcmp(argv[*i], "--in-memory") == 0 || strcmp(argv[*i], "--no-huge") == 0)
		sc->no_files = 1;
	if (strcmp(argv[*i], "--single-file-segments") == 0)
		sc->single_file = 1;
	return push(ea, strdup(argv[*i]));
}

/*
 * A virtio_user port hands the vhost-user backend one file descriptor per
 * hugepage file, and vhost-user takes at most 8 memory regions: one file
 * per memseg list keeps the count low whatever -m says.
 */
static int
virtio_user_memory(struct hd_eal_args *ea, const struct eal_scan *sc)
{
	if (!sc->virtio_user || sc->single_file)
		return 0;
	return push(ea, strdup("--single-file-segments"));
}

static struct eal_scan scan;

int
hd_eal_args_build(int argc, char **argv, const struct hd_config *cfg, struct hd_eal_args *ea)
{
	int i, ret;

	memset(ea, 0, sizeof(*ea));
	memset(&scan, 0, sizeof(scan));
	/* Each argument may become two, plus the default prefix, one more option and a NULL. */
	ea->argv = calloc(2 * (size_t)argc + 5, sizeof(char *));
	ea->owned = calloc(2 * (size_t)argc + 5, sizeof(char *));
	if (ea->argv == NULL || ea->owned == NULL) {
		hd_eal_args_free(ea);
		return -ENOMEM;
	}
	ret = push(ea, strdup(argv[0]));
	for (i = 1; i < argc && ret == 0; i++)
		ret = scan_one(argc, argv, &i, cfg, ea, &scan);
	if (ret == 0 && !scan.has_prefix) {
		/* A fixed prefix gives a known telemetry socket: dpdk-telemetry.py -f heimdall. */
		snprintf(ea->prefix, sizeof(ea->prefix), "%s", DEFAULT_PREFIX);
		ret = push(ea, strdup("--file-prefix=" DEFAULT_PREFIX));
	}
	if (ret == 0)
		ret = virtio_user_memory(ea, &scan);
	if (ret < 0)
		hd_eal_args_free(ea);
	return ret;
}

void
hd_eal_args_free(struct hd_eal_args *ea)
{
	int i;

	/* rte_eal_init() reorders and overwrites argv[]: free what we allocated. */
	if (ea->owned != NULL)
		for (i = 0; i < ea->argc; i++)
			free(ea->owned[i]);
	free(ea->owned);
	free(ea->argv);
	ea->owned = NULL;
	ea->argv = NULL;
	ea->argc = 0;
}

/*
 * Take the lock @p name in RUN_DIR for the life of the process (the fd is
 * never closed). @return 0, -EBUSY when a live process holds it.
 */
static int
lock_take(const char *name)
{
	char path[PATH_MAX], pid[32];
	int fd, len;

	snprintf(path, sizeof(path), RUN_DIR "/%s.lock", name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "heimdall: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		return err == EWOULDBLOCK ? -EBUSY : -err;
	}
	/* The pid is for people reading the file; the lock is what counts. */
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)len) < 0)
		APP_LOG(DEBUG, "%s: cannot write the pid", path);
	return 0;
}

static unsigned int
hugefiles_remove_in(const char *dir, const char *prefix)
{
	char want[80], path[PATH_MAX];
	unsigned int n = 0;
	struct dirent *de;
	DIR *d;

	/* EAL names them <hugedir>/<prefix>map_<n>. */
	snprintf(want, sizeof(want), "%smap_", prefix);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, want, strlen(want)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		APP_LOG(NOTICE, "removed %u stale hugepage file(s) %s/%s* of an earlier heimdall "
			"with prefix %s (no heimdall holds its lock)", n, dir, want, prefix);
	return n;
}

/*
 * Hugepage files stay after the process that mapped them is gone (killed
 * with -9, or simply exited: the EAL keeps them for secondary processes),
 * holding hugepages nobody can use. Our lock says no heimdall with this
 * prefix runs, so they are garbage.
 */
static void
hugefiles_remove(const char *prefix)
{
	struct mntent *me;
	FILE *mounts;

	if (scan.no_files)
		return;
	if (scan.huge_dir != NULL) {
		hugefiles_remove_in(scan.huge_dir, prefix);
		return;
	}
	mounts = setmntent("/proc/mounts", "r");
	if (mounts == NULL)
		return;
	while ((me = getmntent(mounts)) != NULL)
		if (strcmp(me->mnt_type, "hugetlbfs") == 0)
			hugefiles_remove_in(me->mnt_dir, prefix);
	endmntent(mounts);
}

static void
addrs_path(const char *ifname, char *path, size_t len)
{
	snprintf(path, len, RUN_DIR "/iface-%s.addrs", ifname);
}

/*
 * The addresses heimdall added to an af_xdp interface, one "ADDR PREFIX" a
 * line, so that after a kill -9 the next heimdall (holding the interface's
 * lock) takes them back instead of mistaking them for the operator's.
 */
void
hd_addrs_record(const struct hd_port *p)
{
	char path[PATH_MAX], ip[INET6_ADDRSTRLEN];
	unsigned int i;
	FILE *f;

	addrs_path(p->ifname, path, sizeof(path));
	if (p->n_added == 0) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	if (f == NULL) {
		APP_LOG(WARNING, "%s: %s: a kill -9 would leave the addresses behind", path,
			strerror(errno));
		return;
	}
	for (i = 0; i < p->n_added; i++)
		if (inet_ntop(p->added[i].family, p->added[i].addr, ip, sizeof(ip)) != NULL)
			fprintf(f, "%s %u\n", ip, p->added[i].prefix);
	fclose(f);
}

void
hd_addrs_forget(const char *ifname)
{
	char path[PATH_MAX];

	addrs_path(ifname, path, sizeof(path));
	unlink(path);
}

/* Take back what a dead heimdall added to @p ifname (we hold its lock). */
static void
addrs_stale_remove(const char *ifname)
{
	char path[PATH_MAX], ip[INET6_ADDRSTRLEN + 1];
	struct hd_port p;
	unsigned int prefix;
	FILE *f;

	addrs_path(ifname, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return;
	memset(&p, 0, sizeof(p));
	snprintf(p.ifname, sizeof(p.ifname), "%s", ifname);
	p.ifindex = if_nametoindex(ifname);
	while (p.n_added < HD_PORT_ADDR_MAX && fscanf(f, "%46s %u", ip, &prefix) == 2) {
		struct hd_config_addr *a = &p.added[p.n_added];

		a->prefix = (uint8_t)prefix;
		if (inet_pton(AF_INET, ip, a->addr) == 1)
			a->family = AF_INET;
		else if (inet_pton(AF_INET6, ip, a->addr) == 1)
			a->family = AF_INET6;
		else
			continue;
		p.n_added++;
	}
	fclose(f);
	if (p.ifindex != 0 && p.n_added > 0) {
		APP_LOG(NOTICE, "%s: taking back %u address(es) a heimdall that did not stop cleanly "
			"added", ifname, p.n_added);
		hd_port_addr_remove(&p);
	}
	unlink(path);
}

int
hd_eal_prepare(const struct hd_eal_args *ea)
{
	char name[IF_NAMESIZE + 8];
	unsigned int i;
	int ret;

	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "heimdall: cannot create %s: %s\n", RUN_DIR, strerror(errno));
		return -errno;
	}
	ret = lock_take(ea->prefix);
	if (ret == -EBUSY) {
		fprintf(stderr, "heimdall: another heimdall runs with --file-prefix=%s (%s/%s.lock); "
			"give this one another prefix\n", ea->prefix, RUN_DIR, ea->prefix);
		return ret;
	}
	if (ret < 0)
		return ret;
	hugefiles_remove(ea->prefix);

	for (i = 0; i < ea->n_ifaces; i++) {
		snprintf(name, sizeof(name), "iface-%s", ea->ifaces[i]);
		ret = lock_take(name);
		if (ret == -EBUSY) {
			fprintf(stderr, "heimdall: interface %s is used by another heimdall (%s/%s.lock)\n",
				ea->ifaces[i], RUN_DIR, name);
			return ret;
		}
		if (ret < 0)
			return ret;
		/* We hold the interface: an XDP program of ours on it is a dead heimdall's. */
		addrs_stale_remove(ea->ifaces[i]);
		ret = hd_port_xdp_prepare(ea->ifaces[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}
