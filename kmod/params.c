// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: mount options.
 *
 *   dirs=<branch>[:<branch>...]   (alias br=); may be given several times,
 *                                 each occurrence appends its branches
 *   <branch> = <path>[=rw|ro|rr]
 *   xino=<file>                   union inode numbers are kept in <file>
 *   noxino                        ... in memory only, for the mount's life
 *   metacopy, nometacopy          metadata-only copy-up on (the default) or
 *                                 off; may change on remount
 *   udba=none|reval|notify        changes made directly in branches: not
 *                                 seen, seen at the next lookup (udba.c,
 *                                 the default), or also told at once by
 *                                 fsnotify marks on the branch directories
 *                                 and forwarded to inotify on the union
 *                                 (notify.c); fixed at mount
 *   create=tdp|rr|mfs[:secs]|pmfs[:secs]|tdmfs:low[:secs]|
 *          mfsrr:low[:secs]|pmfsrr:low[:secs]
 *                                 where new objects go (copy_up.c); may
 *                                 change on remount
 *   cpup=tdp|bup|bu               where lower objects are copied up; may
 *                                 change on remount
 *   nosum, sum, wsum              what statfs counts: branch 0 (the
 *                                 default), every branch, or the writable
 *                                 ones; may change on remount
 *
 * On remount only, changes of branches, applied in order (brops.c):
 *   add:<index>:<branch>          (alias ins:) insert at <index>
 *   append:<branch>, prepend:<branch>
 *   del:<path>, mod:<path>=<perm>
 * as fsconfig(2) keys (add, ins, append, prepend, del, mod) with the rest
 * as the value, or as one legacy mount(2) option each, which the VFS
 * splits at the last '=' into a key and a value.
 *
 * Without a permission the first branch of the mount is rw, the others ro.
 * Any branch may be rw, and any number of them.
 * Without xino= or noxino the xino file is <writable branch>/.aufs.xino,
 * and there is none without a writable branch; the last of xino= and
 * noxino wins.
 *
 * Every branch is resolved and checked as it is parsed, so that the error
 * names the branch as the user wrote it.
 */
#include <linux/ctype.h>
#include <linux/fs_parser.h>
#include <linux/fs_struct.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "cppaufs.h"

#define CPA_OPT_XINO		"xino"
#define CPA_OPT_NOXINO		"noxino"

enum cpa_opt {
	Opt_dirs,
	Opt_si,
	Opt_xino,
	Opt_noxino,
	Opt_metacopy,
	Opt_udba,
	Opt_create,
	Opt_cpup,
	Opt_sum,
	Opt_brop,
};

static const struct fs_parameter_spec cpa_param_specs[] = {
	/* Empty values reach us, to be refused with a message of our own. */
	cpa_fsparam_string_empty(CPPAUFS_OPT_DIRS,	Opt_dirs),
	cpa_fsparam_string_empty(CPPAUFS_OPT_BR,	Opt_dirs),
	fsparam_string(CPPAUFS_OPT_SI,		Opt_si),
	fsparam_string(CPA_OPT_XINO,		Opt_xino),
	fsparam_flag(CPA_OPT_NOXINO,		Opt_noxino),
	fsparam_flag_no(CPPAUFS_OPT_METACOPY,	Opt_metacopy),
	fsparam_string(CPPAUFS_OPT_UDBA,	Opt_udba),
	fsparam_string(CPPAUFS_OPT_CREATE,	Opt_create),
	fsparam_string(CPPAUFS_OPT_CPUP,	Opt_cpup),
	fsparam_flag(CPPAUFS_OPT_NOSUM,		Opt_sum),
	fsparam_flag(CPPAUFS_OPT_SUM,		Opt_sum),
	fsparam_flag(CPPAUFS_OPT_WSUM,		Opt_sum),
	fsparam_string("add",			Opt_brop),
	fsparam_string("ins",			Opt_brop),
	fsparam_string("append",		Opt_brop),
	fsparam_string("prepend",		Opt_brop),
	fsparam_string("del",			Opt_brop),
	fsparam_string("mod",			Opt_brop),
	{}
};

static const char *const cpa_brop_names[] = {
	"add", "ins", "append", "prepend", "del", "mod",
};

/*
 * A message quotes what the user wrote (paths, permissions), which may hold
 * any byte: control characters, a newline above all, would break the one
 * line into several.  They are written as \xNN; other bytes, UTF-8
 * included, stay as they are.
 */
static char *cpa_msg_escape(const char *msg)
{
	size_t n = 0;
	const char *s;
	char *out, *d;

	for (s = msg; *s; s++)
		n += ((u8)*s < 0x20 || *s == 0x7f) ? 4 : 1;
	out = kmalloc(n + 1, GFP_KERNEL);
	if (!out)
		return NULL;
	for (s = msg, d = out; *s; s++) {
		if ((u8)*s < 0x20 || *s == 0x7f)
			d += sprintf(d, "\\x%02x", (u8)*s);
		else
			*d++ = *s;
	}
	*d = '\0';
	return out;
}

/*
 * Reject with one line in the fs_context log (what fsopen(2) callers and
 * the mount helper read) and in the kernel log.  Without a log buffer
 * (classic mount(2)) errorfc() itself prints to the kernel log.
 */
static __printf(3, 0) int cpa_vfailf(struct fs_context *fc, int err,
				     const char *fmt, va_list args)
{
	char *msg, *line;

	msg = kvasprintf(GFP_KERNEL, fmt, args);
	line = msg ? cpa_msg_escape(msg) : NULL;
	kfree(msg);
	if (!line)
		return -ENOMEM;
	errorfc(fc, "%s", line);
	if (fc->log.log)
		pr_err("%s\n", line);
	kfree(line);
	return err;
}

int cpa_invalf(struct fs_context *fc, const char *fmt, ...)
{
	va_list args;
	int err;

	va_start(args, fmt);
	err = cpa_vfailf(fc, -EINVAL, fmt, args);
	va_end(args);
	return err;
}

/* The same, failing with @err. */
int cpa_failf(struct fs_context *fc, int err, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	err = cpa_vfailf(fc, err, fmt, args);
	va_end(args);
	return err;
}

static int cpa_ctx_grow(struct cpa_fs_context *ctx)
{
	struct cpa_branch **br;
	char **given;
	int cap;

	if (ctx->nbranch < ctx->capacity)
		return 0;
	cap = max(8, ctx->capacity * 2);
	cap = min(cap, CPPAUFS_BRANCH_MAX);
	br = cpa_krealloc_array(ctx->branches, cap, sizeof(*br), GFP_KERNEL);
	if (!br)
		return -ENOMEM;
	ctx->branches = br;
	given = cpa_krealloc_array(ctx->given, cap, sizeof(*given),
				   GFP_KERNEL);
	if (!given)
		return -ENOMEM;
	ctx->given = given;
	ctx->capacity = cap;
	return 0;
}

/* Is the new branch the same as, inside, or around one we already have? */
static int cpa_check_overlap(struct fs_context *fc, const char *key,
			     const char *given, const struct path *path)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	int i;

	for (i = 0; i < ctx->nbranch; i++) {
		const struct path *other = &ctx->branches[i]->path;

		if (path_equal(path, other))
			return cpa_invalf(fc, "%s: %s: given twice", key, given);
		if (path_is_under(path, other) || path_is_under(other, path))
			return cpa_invalf(fc, "%s: %s: overlaps branch %s", key,
					  given, ctx->given[i]);
	}
	return 0;
}

static int cpa_resolve(struct fs_context *fc, const char *key,
		       const char *given, struct path *path)
{
	int err = kern_path(given, LOOKUP_FOLLOW, path);

	if (err == -ENOENT)
		return cpa_invalf(fc, "%s: %s: no such file or directory", key,
				  given);
	if (err == -ENOTDIR)
		return cpa_invalf(fc, "%s: %s: not a directory", key, given);
	if (err) {
		cpa_invalf(fc, "%s: %s: cannot resolve (error %d)", key, given,
			   err);
		return err;
	}
	if (!d_is_dir(path->dentry)) {
		path_put(path);
		return cpa_invalf(fc, "%s: %s: not a directory", key, given);
	}
	if (path->dentry->d_sb->s_type == &cpa_fs_type) {
		path_put(path);
		return cpa_invalf(fc, "%s: %s: is a cppaufs mount", key, given);
	}
	return 0;
}

/* Parse, resolve, check and append one "<path>[=perm]". */
static int cpa_add_branch(struct fs_context *fc, const char *key, char *spec)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_branch *br;
	enum cpa_perm perm;
	struct path path;
	char *eq, *given;
	int err;

	if (!*spec)
		return cpa_invalf(fc, "%s: empty branch path", key);

	eq = strrchr(spec, CPPAUFS_PERM_SEP);
	if (eq) {
		*eq = '\0';
		if (!*spec)
			return cpa_invalf(fc, "%s: empty branch path", key);
		if (cpa_perm_parse(eq + 1, &perm))
			return cpa_invalf(fc,
				"%s: %s: bad permission '%s' (expected rw, ro or rr)",
				key, spec, eq + 1);
	} else {
		perm = ctx->nbranch ? CPA_PERM_RO : CPA_PERM_RW;
	}

	if (ctx->nbranch >= CPPAUFS_BRANCH_MAX)
		return cpa_invalf(fc, "%s: too many branches (at most %d)", key,
				  CPPAUFS_BRANCH_MAX);

	err = cpa_resolve(fc, key, spec, &path);
	if (err)
		return err;

	err = cpa_check_overlap(fc, key, spec, &path);
	if (err)
		goto out_put;

	err = cpa_ctx_grow(ctx);
	if (err)
		goto out_put;
	given = kstrdup(spec, GFP_KERNEL);
	if (!given) {
		err = -ENOMEM;
		goto out_put;
	}
	br = cpa_branch_new(&path, perm);
	if (IS_ERR(br)) {
		err = PTR_ERR(br);
		kfree(given);
		goto out_put;
	}
	br->id = ctx->nbranch;
	ctx->branches[ctx->nbranch] = br;
	ctx->given[ctx->nbranch] = given;
	ctx->ngiven++;
	if (perm == CPA_PERM_RW && ctx->rw_index < 0)
		ctx->rw_index = ctx->nbranch;
	ctx->nbranch++;
	err = 0;
out_put:
	path_put(&path);
	return err;
}

static int cpa_parse_dirs(struct fs_context *fc, const char *key, char *list)
{
	char *spec;
	int err;

	if (!*list)
		return cpa_invalf(fc, "%s: empty branch path", key);
	while ((spec = strsep(&list, ":")) != NULL) {
		err = cpa_add_branch(fc, key, spec);
		if (err)
			return err;
	}
	return 0;
}

/*
 * xino=<file>: a relative path is taken from the current directory now,
 * like branches, not when the file is opened at fill_super.
 */
static int cpa_parse_xino(struct fs_context *fc, struct fs_parameter *param)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	const char *given = param->string;
	struct path pwd;
	char *buf, *dir, *abs;

	if (!*given)
		return cpa_invalf(fc, "%s: empty path", param->key);
	if (given[0] == '/') {
		abs = param->string;
		param->string = NULL;
	} else {
		buf = kmalloc(PATH_MAX, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		get_fs_pwd(current->fs, &pwd);
		dir = d_path(&pwd, buf, PATH_MAX);
		path_put(&pwd);
		if (IS_ERR(dir)) {
			kfree(buf);
			return cpa_invalf(fc,
				"%s: %s: cannot resolve the current directory (error %ld)",
				param->key, given, PTR_ERR(dir));
		}
		abs = kasprintf(GFP_KERNEL, "%s/%s", strcmp(dir, "/") ? dir : "",
				given);
		kfree(buf);
		if (!abs)
			return -ENOMEM;
	}
	kfree(ctx->xino_path);
	ctx->xino_path = abs;
	ctx->noxino = false;
	return 0;
}

/* udba=none|reval|notify */
static int cpa_parse_udba(struct fs_context *fc, struct fs_parameter *param)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	const char *v = param->string;

	if (!strcmp(v, "none"))
		ctx->udba = CPA_UDBA_NONE;
	else if (!strcmp(v, "reval"))
		ctx->udba = CPA_UDBA_REVAL;
	else if (!strcmp(v, "notify"))
		ctx->udba = CPA_UDBA_NOTIFY;
	else
		return cpa_invalf(fc,
				  "%s=%s: bad value (expected none, reval or notify)",
				  param->key, v);
	return 0;
}

static const char *const cpa_create_names[] = {
	[CPA_CREATE_TDP] = "tdp",
	[CPA_CREATE_RR] = "rr",
	[CPA_CREATE_MFS] = "mfs",
	[CPA_CREATE_PMFS] = "pmfs",
	[CPA_CREATE_TDMFS] = "tdmfs",
	[CPA_CREATE_MFSRR] = "mfsrr",
	[CPA_CREATE_PMFSRR] = "pmfsrr",
};

static const char *const cpa_cpup_names[] = {
	[CPA_CPUP_TDP] = "tdp",
	[CPA_CPUP_BUP] = "bup",
	[CPA_CPUP_BU] = "bu",
};

const char *cpa_create_str(enum cpa_create_policy p)
{
	return cpa_create_names[p];
}

const char *cpa_cpup_str(enum cpa_cpup_policy p)
{
	return cpa_cpup_names[p];
}

/* Does create= policy @i look at the free space, and take a low mark? */
static bool cpa_create_mfs(int i)
{
	return i != CPA_CREATE_TDP && i != CPA_CREATE_RR;
}

static bool cpa_create_low(int i)
{
	return i == CPA_CREATE_TDMFS || i == CPA_CREATE_MFSRR ||
	       i == CPA_CREATE_PMFSRR;
}

/*
 * create=tdp|rr|mfs[:secs]|pmfs[:secs]|tdmfs:low[:secs]|mfsrr:low[:secs]|
 * pmfsrr:low[:secs], low a size in bytes with an optional k, m, g or t.
 */
static int cpa_parse_create(struct fs_context *fc, struct fs_parameter *param)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	const char *v = param->string;
	size_t n = strcspn(v, ":");
	const char *arg = v[n] ? v + n + 1 : NULL;
	unsigned int secs;
	char *end;
	int i;

	for (i = 0; i < ARRAY_SIZE(cpa_create_names); i++)
		if (strlen(cpa_create_names[i]) == n &&
		    !strncmp(v, cpa_create_names[i], n))
			break;
	if (i == ARRAY_SIZE(cpa_create_names))
		return cpa_invalf(fc, "%s=%s: bad value (expected tdp, rr, mfs[:secs], pmfs[:secs], tdmfs:low[:secs], mfsrr:low[:secs] or pmfsrr:low[:secs])",
				  param->key, v);
	ctx->mfs_low = 0;
	if (cpa_create_low(i)) {
		if (!arg || !isdigit(*arg))
			return cpa_invalf(fc, "%s=%s: %s needs the free space under which it changes course, e.g. %s:1G",
					  param->key, v, cpa_create_names[i],
					  cpa_create_names[i]);
		ctx->mfs_low = memparse(arg, &end);
		if (*end && *end != ':')
			return cpa_invalf(fc, "%s=%s: bad size %.*s (bytes, or with k, m, g or t)",
					  param->key, v, (int)strcspn(arg, ":"),
					  arg);
		arg = *end ? end + 1 : NULL;
	}
	if (arg) {
		if (!cpa_create_mfs(i))
			return cpa_invalf(fc, "%s=%s: %s takes no interval",
					  param->key, v, cpa_create_names[i]);
		if (kstrtouint(arg, 10, &secs) || secs > 3600)
			return cpa_invalf(fc, "%s=%s: bad interval (0 to 3600 seconds)",
					  param->key, v);
		ctx->mfs_secs = secs;
	}
	ctx->create = i;
	return 0;
}

/* cpup=tdp|bup|bu. */
static int cpa_parse_cpup(struct fs_context *fc, struct fs_parameter *param)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	const char *v = param->string;
	int i = match_string(cpa_cpup_names, ARRAY_SIZE(cpa_cpup_names), v);

	if (i < 0)
		return cpa_invalf(fc, "%s=%s: bad value (expected tdp, bup or bu)",
				  param->key, v);
	ctx->cpup = i;
	return 0;
}

/*
 * One change of branches: @op (a name of cpa_brop_names) with @arg, the
 * rest of the option; @given is the option as written.
 */
static int cpa_parse_brop(struct fs_context *fc, const char *op, char *arg,
			  const char *given)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_brop b = { .index = -1, .perm = CPA_PERM_RO };
	struct cpa_brop *ops;
	char *path = arg, *eq;
	int err;

	if (fc->purpose != FS_CONTEXT_FOR_RECONFIGURE)
		return cpa_invalf(fc, "%s: branches are changed on remount only; mount with dirs=",
				  given);
	if (!strcmp(op, "del")) {
		b.kind = CPA_BROP_DEL;
	} else if (!strcmp(op, "mod")) {
		b.kind = CPA_BROP_MOD;
	} else {
		b.kind = CPA_BROP_ADD;
		if (!strcmp(op, "prepend"))
			b.index = 0;
		if (!strcmp(op, "add") || !strcmp(op, "ins")) {
			char *colon = strchr(arg, ':');

			if (colon)
				*colon = '\0';
			if (!colon || kstrtoint(arg, 10, &b.index) < 0 ||
			    b.index < 0)
				return cpa_invalf(fc, "%s: expected %s:<index>:<path>[=rw|ro|rr]",
						  given, op);
			path = colon + 1;
		}
	}
	if (b.kind != CPA_BROP_DEL) {
		eq = strrchr(path, CPPAUFS_PERM_SEP);
		if (eq) {
			*eq = '\0';
			if (cpa_perm_parse(eq + 1, &b.perm))
				return cpa_invalf(fc, "%s: bad permission '%s' (expected rw, ro or rr)",
						  given, eq + 1);
		} else if (b.kind == CPA_BROP_MOD) {
			return cpa_invalf(fc, "%s: expected mod:<path>=rw|ro|rr",
					  given);
		}
	}
	if (!*path)
		return cpa_invalf(fc, "%s: empty branch path", given);
	err = cpa_resolve(fc, given, path, &b.path);
	if (err)
		return err;
	ops = cpa_krealloc_array(ctx->brops, ctx->nbrops + 1, sizeof(*ops),
				 GFP_KERNEL);
	if (ops)
		ctx->brops = ops;	/* the old array is gone */
	b.given = kstrdup(given, GFP_KERNEL);
	if (!b.given || !ops) {
		kfree(b.given);
		path_put(&b.path);
		return -ENOMEM;
	}
	ctx->brops[ctx->nbrops++] = b;
	return 0;
}

/* A legacy "<op>:<rest>" option, split by the VFS at its last '='. */
static int cpa_parse_legacy_brop(struct fs_context *fc,
				 struct fs_parameter *param)
{
	const char *colon = strchr(param->key, ':');
	char *given, *op;
	int i, err;

	if (!colon)
		return -ENOPARAM;
	for (i = 0; i < ARRAY_SIZE(cpa_brop_names); i++)
		if (strlen(cpa_brop_names[i]) == colon - param->key &&
		    !strncmp(param->key, cpa_brop_names[i], colon - param->key))
			break;
	if (i == ARRAY_SIZE(cpa_brop_names))
		return -ENOPARAM;
	if (param->type == fs_value_is_string && param->string)
		given = kasprintf(GFP_KERNEL, "%s=%s", param->key,
				  param->string);
	else if (param->type == fs_value_is_flag)
		given = kstrdup(param->key, GFP_KERNEL);
	else
		return -ENOPARAM;
	if (!given)
		return -ENOMEM;
	op = kstrdup(given, GFP_KERNEL);
	if (!op) {
		kfree(given);
		return -ENOMEM;
	}
	op[colon - param->key] = '\0';
	err = cpa_parse_brop(fc, op, op + (colon - param->key) + 1, given);
	kfree(op);
	kfree(given);
	return err;
}

static int cpa_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	char *given;
	int opt;

	opt = fs_parse(fc, cpa_param_specs, param, &result);
	if (opt == -ENOPARAM) {
		opt = cpa_parse_legacy_brop(fc, param);
		if (opt != -ENOPARAM)
			return opt;
	}
	/*
	 * The VFS would quote an unknown key as it came, control characters
	 * and all; "source" is the VFS's own, for the device name.
	 */
	if (opt == -ENOPARAM && strcmp(param->key, "source"))
		return cpa_invalf(fc, "Unknown parameter '%s'", param->key);
	if (opt < 0)
		return opt;

	switch (opt) {
	case Opt_dirs:
		return cpa_parse_dirs(fc, param->key, param->string);
	case Opt_si:
		/* Shown in /proc/mounts; mount(8) may hand it back on remount. */
		if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
			return 0;
		return cpa_invalf(fc, "%s: set by the kernel, not an option",
				  param->key);
	case Opt_xino:
	case Opt_noxino:
		/* On remount, cpa_reconfigure_same() compares it. */
		if (opt == Opt_xino)
			return cpa_parse_xino(fc, param);
		kfree(ctx->xino_path);
		ctx->xino_path = NULL;
		ctx->noxino = true;
		return 0;
	case Opt_metacopy:
		ctx->metacopy = !result.negated;
		return 0;
	case Opt_udba:
		return cpa_parse_udba(fc, param);
	case Opt_create:
		return cpa_parse_create(fc, param);
	case Opt_cpup:
		return cpa_parse_cpup(fc, param);
	case Opt_sum:
		ctx->sum = !strcmp(param->key, CPPAUFS_OPT_SUM) ? CPA_SUM_ALL :
			   !strcmp(param->key, CPPAUFS_OPT_WSUM) ?
			   CPA_SUM_WRITABLE : CPA_SUM_NONE;
		return 0;
	case Opt_brop:
		given = kasprintf(GFP_KERNEL, "%s:%s", param->key,
				  param->string);
		if (!given)
			return -ENOMEM;
		opt = cpa_parse_brop(fc, param->key, param->string, given);
		kfree(given);
		return opt;
	default:
		return -EINVAL;
	}
}

static int cpa_get_tree(struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;

	if (!ctx->nbranch)
		return cpa_invalf(fc, "no branches: use dirs=<dir>[:<dir>...]");
	return get_tree_nodev(fc, cpa_fill_super);
}

/* Does the path @given name the file at @cur? */
static bool cpa_same_file(const char *given, const char *cur)
{
	struct path a, b;
	bool same = false;

	if (!cur || kern_path(given, LOOKUP_FOLLOW, &a))
		return false;
	if (!kern_path(cur, LOOKUP_FOLLOW, &b)) {
		same = d_inode(a.dentry) == d_inode(b.dentry);
		path_put(&b);
	}
	path_put(&a);
	return same;
}

/*
 * Are the branches of @ctx, a remount's dirs=, those the union has, or
 * had at mount (so /etc/fstab says, which mount(8) repeats)?
 */
static int cpa_reconfigure_same_brs(struct cpa_fs_context *ctx,
				    struct cpa_sb_info *sbi)
{
	struct cpa_brtable *brt = cpa_brt(sbi);
	bool same = ctx->nbranch == brt->nbranch;
	size_t len;
	char *given;
	int i;

	for (i = 0; same && i < ctx->nbranch; i++)
		same = path_equal(&ctx->branches[i]->path, &brt->br[i]->path) &&
		       ctx->branches[i]->perm == READ_ONCE(brt->br[i]->perm);
	if (same)
		return 1;
	given = cpa_branches_str(ctx->branches, ctx->nbranch, &len);
	if (!given)
		return -ENOMEM;
	same = len == sbi->mount_brs_len &&
	       !memcmp(given, sbi->mount_brs, len);
	kfree(given);
	return same;
}

/*
 * mount(8) repeats the options of /etc/fstab on remount, dirs= and xino=
 * included: naming the branches (each with its permission) and the xino
 * file the union has, or the branches it was mounted with before add:,
 * del: and mod: changed them, is fine; changing them is not.
 */
static int cpa_reconfigure_same(struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_sb_info *sbi = CPA_SB(fc->root->d_sb);
	int same;

	if (ctx->nbranch) {
		same = cpa_reconfigure_same_brs(ctx, sbi);
		if (same < 0)
			return same;
		if (!same)
			return cpa_invalf(fc, "branches cannot be changed on remount");
	}
	if ((ctx->xino_path &&
	     !cpa_same_file(ctx->xino_path, sbi->xino_path)) ||
	    (ctx->noxino && sbi->xino_path))
		return cpa_invalf(fc, "xino cannot be changed on remount");
	/* Dentries keep the operations they were made with. */
	if (ctx->udba >= 0 && ctx->udba != sbi->udba)
		return cpa_invalf(fc, "%s cannot be changed on remount",
				  CPPAUFS_OPT_UDBA);
	return 0;
}

/*
 * Only flags such as ro, metacopy, create=, cpup= and sum change on
 * remount, and branches through branch operations.
 */
static int cpa_reconfigure(struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;
	int err;

	err = cpa_reconfigure_same(fc);
	if (!err)
		err = cpa_brops_apply(fc);
	if (err)
		return err;
	/* fspick(2) leaves the flags alone unless asked: sb_flags_mask. */
	if ((fc->sb_flags_mask & SB_RDONLY) && !(fc->sb_flags & SB_RDONLY) &&
	    cpa_brt(CPA_SB(sb))->rw_index < 0)
		return cpa_invalf(fc, "no writable branch: cannot remount rw");
	sync_filesystem(sb);
	if (ctx->metacopy >= 0)
		WRITE_ONCE(CPA_SB(sb)->metacopy, ctx->metacopy);
	if (ctx->mfs_secs >= 0)
		WRITE_ONCE(CPA_SB(sb)->mfs_secs, ctx->mfs_secs);
	else if (ctx->create >= 0)
		WRITE_ONCE(CPA_SB(sb)->mfs_secs, CPA_MFS_SECS_DEFAULT);
	if (ctx->create >= 0) {
		WRITE_ONCE(CPA_SB(sb)->mfs_low, ctx->mfs_low);
		WRITE_ONCE(CPA_SB(sb)->create, ctx->create);
	}
	if (ctx->cpup >= 0)
		WRITE_ONCE(CPA_SB(sb)->cpup, ctx->cpup);
	if (ctx->sum >= 0)
		WRITE_ONCE(CPA_SB(sb)->sum, ctx->sum);
	return 0;
}

static void cpa_free_fc(struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	int i;

	if (!ctx)
		return;
	/* After the hand-over nbranch is 0: the superblock owns them. */
	for (i = 0; i < ctx->nbranch; i++)
		cpa_branch_put(ctx->branches[i]);
	for (i = 0; i < ctx->ngiven; i++)
		kfree(ctx->given[i]);
	for (i = 0; i < ctx->nbrops; i++) {
		path_put(&ctx->brops[i].path);
		kfree(ctx->brops[i].given);
	}
	kfree(ctx->brops);
	kfree(ctx->branches);
	kfree(ctx->given);
	kfree(ctx->xino_path);
	kfree(ctx);
}

static const struct fs_context_operations cpa_context_ops = {
	.parse_param	= cpa_parse_param,
	.get_tree	= cpa_get_tree,
	.reconfigure	= cpa_reconfigure,
	.free		= cpa_free_fc,
};

int cpa_init_fs_context(struct fs_context *fc)
{
	struct cpa_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->rw_index = -1;
	ctx->metacopy = -1;
	ctx->sum = -1;
	ctx->udba = -1;
	ctx->create = -1;
	ctx->mfs_secs = -1;
	ctx->cpup = -1;
	fc->fs_private = ctx;
	fc->ops = &cpa_context_ops;
	return 0;
}
