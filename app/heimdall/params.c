/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heimdall's own options, the part of the command line after "--".
 * The flags are built from lib/config's option table, so every setting of
 * the YAML file is a flag with the same name, parser and help text.
 * Precedence: built-in defaults < --config FILE < flags.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_version.h>

#include "hd_app.h"
#include "hd_build_config.h"
#include "control.h"

/* The options as given, kept for reloads (SIGHUP, POST /api/reload). */
static struct {
	int argc;
	char **argv;
	char *config;
} saved;

#define OPT_BASE	0x100		/* table option i has val OPT_BASE + i */
#define OPT_NEGATE	0x10000		/* --no-<flag> of a boolean */
#define OPT_CONFIG	'c'
#define OPT_HELP	'h'
#define OPT_VERSION	'V'
#define OPT_CHECK	'K'		/* --check-config FILE */
#define OPT_NONOPT	1		/* getopt's value for a non-option with "-" */
#define HELP_INDENT	8
#define HELP_WIDTH	78

struct cli {
	struct option *longopts;
	char **names;		/* flag names, owned */
	unsigned int n_table;
};

static void
cli_free(struct cli *c)
{
	unsigned int i;

	if (c->names != NULL)
		for (i = 0; i < 2 * c->n_table; i++)
			free(c->names[i]);
	free(c->names);
	free(c->longopts);
}

static char *
flag_name(const char *prefix, const char *key)
{
	size_t len = strlen(prefix) + strlen(key) + 1;
	char *s = malloc(len), *p;

	if (s == NULL)
		return NULL;
	snprintf(s, len, "%s%s", prefix, key);
	for (p = s; *p != '\0'; p++)
		if (*p == '.')
			*p = '-';
	return s;
}

static int
cli_build(struct cli *c)
{
	const struct hd_config_option *t = hd_config_options();
	unsigned int i, n = 0, k = 0;

	memset(c, 0, sizeof(*c));
	while (t[n].key != NULL)
		n++;
	c->n_table = n;
	/* Each table entry may need a --no- twin; plus config, check, help, version, end. */
	c->longopts = calloc(2 * n + 5, sizeof(*c->longopts));
	c->names = calloc(2 * n, sizeof(*c->names));
	if (c->longopts == NULL || c->names == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		c->names[2 * i] = flag_name("", t[i].key);
		if (c->names[2 * i] == NULL)
			return -1;
		c->longopts[k++] = (struct option){ c->names[2 * i],
			t[i].is_flag ? no_argument : required_argument, NULL, OPT_BASE + (int)i };
		if (!t[i].is_flag)
			continue;
		c->names[2 * i + 1] = flag_name("no-", t[i].key);
		if (c->names[2 * i + 1] == NULL)
			return -1;
		c->longopts[k++] = (struct option){ c->names[2 * i + 1], no_argument, NULL,
			OPT_BASE + (int)i + OPT_NEGATE };
	}
	c->longopts[k++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	c->longopts[k++] = (struct option){ "check-config", required_argument, NULL, OPT_CHECK };
	c->longopts[k++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	c->longopts[k++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	return 0;
}

static void
print_wrapped(const char *text)
{
	const char *p = text;
	int col = HELP_INDENT;

	printf("%*s", HELP_INDENT, "");
	while (*p != '\0') {
		size_t w = strcspn(p, " ");

		if (col > HELP_INDENT && col + 1 + (int)w > HELP_WIDTH) {
			printf("\n%*s", HELP_INDENT, "");
			col = HELP_INDENT;
		} else if (col > HELP_INDENT) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)w, p);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

void
hd_params_usage(const char *prog)
{
	const struct hd_config_option *t = hd_config_options();
	unsigned int i;
	char *name;

	printf("Usage: %s [EAL options] -- [heimdall options]\n\n"
	       "A kernel-bypass DNS caching forwarder. EAL options come first, DPDK style\n"
	       "(e.g. -l 0-1 --no-pci --vdev=net_af_xdp0,iface=eth1); see docs/running.md.\n"
	       "Without --file-prefix, heimdall uses --file-prefix=heimdall.\n\n"
	       "heimdall options (every one can also be set in the --config file, under the\n"
	       "same name; flags override the file, a list flag replaces the file's list):\n",
	       prog);
	printf("  --config FILE\n");
	print_wrapped("read settings from a YAML file (default: none)");
	for (i = 0; t[i].key != NULL; i++) {
		name = flag_name("", t[i].key);
		if (name == NULL)
			return;
		if (t[i].is_flag)
			printf("  --%s, --no-%s\n", name, name);
		else
			printf("  --%s %s\n", name, t[i].arg ? t[i].arg : "VALUE");
		print_wrapped(t[i].help);
		free(name);
	}
	printf("  --check-config FILE\n");
	print_wrapped("check FILE as --config would read it (settings, records, zone files, "
		      "local list files; no download, no EAL), print 'FILE: OK' and exit 0, or "
		      "the error and exit 2");
	printf("  --help, -h\n");
	print_wrapped("print this help and exit");
	printf("  --version\n");
	print_wrapped("print the version and exit");
}

static void __rte_noreturn __rte_format_printf(1, 2)
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "heimdall: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see heimdall --help)\n");
	exit(HD_EXIT_USAGE);
}

/* getopt says '?' both for an unknown option and for a value given to a boolean. */
static void __rte_noreturn
option_refused(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (arg[0] == '-' && arg[1] == '-' && eq != NULL)
		usage_error("unknown option '%.*s', or it takes no value (use --X / --no-X for "
			    "booleans)", (int)(eq - arg), arg);
	usage_error("unknown option '%s'", arg);
}

/* The option getopt refused, as the user typed it. */
static const char *
bad_arg(char **argv, int argc)
{
	int i = optind - 1;

	if (i < 1 || i >= argc)
		return "?";
	return argv[i];
}

/* Pass 1: --help, --version, --config and --check-config, whatever their position. */
static const char *
first_pass(int argc, char **argv, const struct cli *c, const char **check)
{
	const char *config = NULL;
	int opt;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "-:h", c->longopts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			hd_params_usage("heimdall");
			exit(0);
		}
		if (opt == OPT_VERSION) {
			printf("heimdall %s (%s)\n", HD_VERSION, rte_version());
			exit(0);
		}
		if (opt == OPT_CONFIG)
			config = optarg;
		if (opt == OPT_CHECK)
			*check = optarg;
	}
	return config;
}

/* Apply one of our flags to @p cfg. @return 0 or -EINVAL with @p err filled. */
static int
flag_set(struct hd_config *cfg, const struct cli *c, int opt, const char *arg,
	 uint8_t *cleared, char *err, size_t errlen)
{
	const struct hd_config_option *t = hd_config_options();
	unsigned int i = (unsigned int)(opt & ~OPT_NEGATE) - OPT_BASE;
	const char *value = arg;
	char where[80];

	snprintf(where, sizeof(where), "--%s", c->names[2 * i]);
	if (t[i].is_flag)
		value = (opt & OPT_NEGATE) ? "false" : "true";
	/* A list on the command line replaces the file's list rather than extending it. */
	if (t[i].is_list && !cleared[i]) {
		hd_config_clear(cfg, t[i].key);
		cleared[i] = 1;
	}
	return hd_config_set(cfg, t[i].key, value, where, err, errlen) < 0 ? -EINVAL : 0;
}

static void
apply_flag(struct hd_config *cfg, const struct cli *c, int opt, const char *arg,
	   uint8_t *cleared)
{
	char err[HD_CONFIG_ERR_LEN];

	if (flag_set(cfg, c, opt, arg, cleared, err, sizeof(err)) < 0) {
		fprintf(stderr, "heimdall: %s\n", err);
		exit(HD_EXIT_USAGE);
	}
}

static void
second_pass(int argc, char **argv, const struct cli *c, struct hd_config *cfg)
{
	uint8_t *cleared = calloc(c->n_table, 1);
	int opt;

	if (cleared == NULL)
		usage_error("%s", "out of memory");
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "-:h", c->longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
		case OPT_CHECK:
		case OPT_HELP:
		case OPT_VERSION:
			break;
		case OPT_NONOPT:
			usage_error("unexpected argument '%s'", optarg);
		case ':':
			usage_error("option '%s' needs a value", bad_arg(argv, argc));
		case '?':
			option_refused(bad_arg(argv, argc));
		default:
			apply_flag(cfg, c, opt, optarg, cleared);
		}
	}
	free(cleared);
}

/*
 * --check-config FILE: what a start with --config FILE would refuse, without
 * starting: the file, the flags, the checks across settings, then the
 * records, zones and local list files compiled.
 */
static void __rte_noreturn
check_config(const char *file, struct hd_config *cfg)
{
	char err[HD_CONFIG_ERR_LEN];

	if (hd_policy_check(cfg, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "heimdall: %s\n", err);
		exit(HD_EXIT_USAGE);
	}
	printf("%s: OK\n", file);
	exit(0);
}

static void
saved_keep(int argc, char **argv, const char *config)
{
	saved.argv = calloc((size_t)argc + 1, sizeof(char *));
	if (saved.argv == NULL)
		return;
	for (int i = 0; i < argc; i++) {
		saved.argv[i] = strdup(argv[i]);
		if (saved.argv[i] == NULL)
			return;
		saved.argc = i + 1;
	}
	saved.config = config != NULL ? strdup(config) : NULL;
}

const char *
hd_params_config_file(void)
{
	return saved.config;
}

/* The flags again over a reloaded file; they were good at start, so errors are unlikely. */
static int
flags_reapply(const struct cli *c, struct hd_config *cfg, char *err, size_t errlen)
{
	uint8_t *cleared = calloc(c->n_table, 1);
	char **argv = calloc((size_t)saved.argc + 1, sizeof(char *));
	int opt, rc = 0;

	if (cleared == NULL || argv == NULL) {
		free(cleared);
		free(argv);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* getopt permutes its argv: give it a copy of the pointers. */
	memcpy(argv, saved.argv, (size_t)saved.argc * sizeof(char *));
	opterr = 0;
	optind = 0;
	while (rc == 0 && (opt = getopt_long(saved.argc, argv, "-:h", c->longopts, NULL)) != -1)
		if (opt >= OPT_BASE)
			rc = flag_set(cfg, c, opt, optarg, cleared, err, errlen);
	optind = 1;
	free(cleared);
	free(argv);
	return rc;
}

int
hd_params_reload(struct hd_config *cfg, char *err, size_t errlen)
{
	struct cli c;
	int rc;

	if (saved.argv == NULL) {
		snprintf(err, errlen, "the command line was not kept (out of memory at start)");
		return -ENOMEM;
	}
	if (cli_build(&c) < 0) {
		cli_free(&c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hd_config_defaults(cfg);
	rc = saved.config != NULL ? hd_config_load_file(cfg, saved.config, err, errlen) : 0;
	if (rc == 0)
		rc = flags_reapply(&c, cfg, err, errlen);
	if (rc == 0)
		rc = hd_config_validate(cfg, err, errlen);
	cli_free(&c);
	return rc < 0 ? -EINVAL : 0;
}

void
hd_params_parse(int argc, char **argv, struct hd_config *cfg)
{
	char err[HD_CONFIG_ERR_LEN];
	const char *config, *check = NULL;
	struct cli c;

	if (cli_build(&c) < 0) {
		cli_free(&c);
		usage_error("%s", "out of memory");
	}
	config = first_pass(argc, argv, &c, &check);
	/* Checked as it would be read with --config. */
	if (check != NULL)
		config = check;
	hd_config_defaults(cfg);
	if (config != NULL && hd_config_load_file(cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "heimdall: %s\n", err);
		exit(HD_EXIT_USAGE);
	}
	second_pass(argc, argv, &c, cfg);
	cli_free(&c);
	if (hd_config_validate(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "heimdall: %s\n", err);
		exit(HD_EXIT_USAGE);
	}
	optind = 1;
	if (check != NULL)
		check_config(check, cfg);
	saved_keep(argc, argv, config);
}
