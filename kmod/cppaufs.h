/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: private header.  Message prefix, calls into branch filesystems
 * and the prototypes of every file, grouped by file.
 */
#ifndef _CPPAUFS_PRIV_H
#define _CPPAUFS_PRIV_H

#ifdef pr_fmt
#undef pr_fmt
#endif
#define pr_fmt(fmt) "cppaufs: " fmt

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/namei.h>
#include <linux/cred.h>
#include <linux/xattr.h>
#include <linux/printk.h>
#include <cppaufs.h>

#include "compat.h"
#include "entry.h"

/* Union inode number of the root directory; aufs uses the same. */
#define CPA_ROOT_INO		2
/* Slots a lookup starts with (namei.c); grown when a directory merges. */
#define CPA_ENTRY_SLOTS		4
/* First union inode number handed out by xino; below are reserved. */
#define CPA_FIRST_INO		11

/*
 * Calls into branch filesystems.  Every one goes through here, so that
 * pr_debug (dynamic debug) can trace what the union asks of a branch; the
 * kernel-specific part is compat.h's.
 */
static inline struct dentry *cpa_do_lookup(struct dentry *h_parent,
					   const char *name, int len)
{
	struct dentry *d = cpa_lookup_unlocked(name, len, h_parent);

	pr_debug("lookup(%pd2/%.*s) = %pe\n", h_parent, len, name,
		 IS_ERR(d) ? d : (d_is_negative(d) ? ERR_PTR(-ENOENT) : d));
	return d;
}

/* The same, in @h_parent locked by the caller. */
static inline struct dentry *cpa_do_lookup_locked(struct dentry *h_parent,
						  const char *name, int len)
{
	struct dentry *d = cpa_lookup_locked(name, len, h_parent);

	pr_debug("lookup(%pd2/%.*s) = %pe (locked)\n", h_parent, len, name,
		 IS_ERR(d) ? d : (d_is_negative(d) ? ERR_PTR(-ENOENT) : d));
	return d;
}

static inline int cpa_do_getattr(const struct path *path, struct kstat *stat,
				 u32 mask, unsigned int flags)
{
	int err = cpa_vfs_getattr(path, stat, mask, flags);

	pr_debug("getattr(%pd2) = %i\n", path->dentry, err);
	return err;
}

static inline struct file *cpa_do_open(const struct path *path, int flags,
				       const struct cred *cred)
{
	struct file *f = dentry_open(path, flags, cred);

	pr_debug("open(%pd2, 0%o) = %pe\n", path->dentry, flags,
		 IS_ERR(f) ? f : NULL);
	return f;
}

static inline ssize_t cpa_do_getxattr(const struct path *path,
				      const char *name, void *value,
				      size_t size)
{
	ssize_t err = cpa_vfs_getxattr(path, name, value, size);

	pr_debug("getxattr(%pd2, %s) = %zi\n", path->dentry, name, err);
	return err;
}

static inline ssize_t cpa_do_listxattr(struct dentry *dentry, char *list,
				       size_t size)
{
	ssize_t err = vfs_listxattr(dentry, list, size);

	pr_debug("listxattr(%pd2) = %zi\n", dentry, err);
	return err;
}

static inline int cpa_do_setxattr(const struct path *path, const char *name,
				  const void *value, size_t size, int flags)
{
	int err = cpa_vfs_setxattr(path, name, value, size, flags);

	pr_debug("setxattr(%pd2, %s) = %i\n", path->dentry, name, err);
	return err;
}

static inline int cpa_do_removexattr(const struct path *path,
				     const char *name)
{
	int err = cpa_vfs_removexattr(path, name);

	pr_debug("removexattr(%pd2, %s) = %i\n", path->dentry, name, err);
	return err;
}

static inline struct posix_acl *cpa_do_get_acl(const struct path *path,
					       int type)
{
	struct posix_acl *acl = cpa_vfs_get_acl(path, type);

	pr_debug("get_acl(%pd2, %d) = %pe\n", path->dentry, type, acl);
	return acl;
}

/* Removes the ACL if @acl is NULL. */
static inline int cpa_do_set_acl(const struct path *path, int type,
				 struct posix_acl *acl)
{
	int err = cpa_vfs_set_acl(path, type, acl);

	pr_debug("set_acl(%pd2, %d) = %i\n", path->dentry, type, err);
	return err;
}

/* Caller holds the inode lock of path->dentry. */
static inline int cpa_do_notify_change(const struct path *path,
				       struct iattr *attr)
{
	int err = cpa_notify_change(path, attr);

	pr_debug("setattr(%pd2, 0x%x) = %i\n", path->dentry, attr->ia_valid,
		 err);
	return err;
}

static inline int cpa_do_statfs(const struct path *path,
				struct kstatfs *buf)
{
	int err = vfs_statfs(path, buf);

	pr_debug("statfs(%pd2) = %i\n", path->dentry, err);
	return err;
}

/*
 * Namespace operations on branch 0, whose directory @dir the caller has
 * locked.  Branch mounts are not idmapped.
 */
static inline int cpa_do_create(struct inode *dir, struct dentry *dentry,
				umode_t mode)
{
	int err = cpa_vfs_create(dir, dentry, mode);

	pr_debug("create(%pd2, 0%o) = %i\n", dentry, mode, err);
	return err;
}

/*
 * Consumes @dentry: returns the dentry of the new directory, which need
 * not be @dentry, or an ERR_PTR.  @dir stays locked either way.
 */
static inline struct dentry *cpa_do_mkdir(struct inode *dir,
					  struct dentry *dentry, umode_t mode)
{
	struct dentry *d;

	pr_debug("mkdir(%pd2, 0%o)\n", dentry, mode);
	d = cpa_vfs_mkdir(dir, dentry, mode);
	if (!IS_ERR(d) && unlikely(d_unhashed(d) || d_is_negative(d))) {
		/* Left unhashed by the filesystem (nfs, cifs): look it up. */
		struct dentry *n = cpa_lookup_locked(d->d_name.name,
						     d->d_name.len,
						     d->d_parent);

		dput(d);
		d = n;
		if (!IS_ERR(d) && !d_is_dir(d)) {
			dput(d);
			d = ERR_PTR(-EIO);
		}
	}
	pr_debug("mkdir = %i\n", PTR_ERR_OR_ZERO(d));
	return d;
}

static inline int cpa_do_mknod(struct inode *dir, struct dentry *dentry,
			       umode_t mode, dev_t rdev)
{
	int err = cpa_vfs_mknod(dir, dentry, mode, rdev);

	pr_debug("mknod(%pd2, 0%o) = %i\n", dentry, mode, err);
	return err;
}

static inline int cpa_do_symlink(struct inode *dir, struct dentry *dentry,
				 const char *target)
{
	int err = cpa_vfs_symlink(dir, dentry, target);

	pr_debug("symlink(%pd2) = %i\n", dentry, err);
	return err;
}

static inline int cpa_do_link(struct dentry *old, struct inode *dir,
			      struct dentry *new)
{
	int err = cpa_vfs_link(old, dir, new);

	pr_debug("link(%pd2, %pd2) = %i\n", old, new, err);
	return err;
}

static inline int cpa_do_unlink(struct inode *dir, struct dentry *dentry)
{
	int err = cpa_vfs_unlink(dir, dentry);

	pr_debug("unlink(%pd2) = %i\n", dentry, err);
	return err;
}

static inline int cpa_do_rmdir(struct inode *dir, struct dentry *dentry)
{
	int err = cpa_vfs_rmdir(dir, dentry);

	pr_debug("rmdir(%pd2) = %i\n", dentry, err);
	return err;
}

/* Caller holds cpa_start_renaming() of the two parents. */
static inline int cpa_do_rename(struct dentry *old_parent, struct dentry *old,
				struct dentry *new_parent, struct dentry *new,
				unsigned int flags)
{
	int err = cpa_vfs_rename(old_parent, old, new_parent, new, flags);

	pr_debug("rename(%pd2, %pd2, 0x%x) = %i\n", old, new, flags, err);
	return err;
}

/* super.c */
extern struct file_system_type cpa_fs_type;
int cpa_fill_super(struct super_block *sb, struct fs_context *fc);
struct cpa_entry *cpa_root_entry(struct super_block *sb);

/* params.c */
/* A change of branches asked for on remount (brops.c applies them). */
enum cpa_brop_kind {
	CPA_BROP_ADD,		/* add:<index>:<branch>, append:, prepend: */
	CPA_BROP_DEL,		/* del:<path> */
	CPA_BROP_MOD,		/* mod:<path>=<perm> */
};

struct cpa_brop {
	enum cpa_brop_kind kind;
	int index;		/* add: where; -1 appends */
	enum cpa_perm perm;	/* add, mod */
	struct path path;	/* resolved when parsed, referenced */
	char *given;		/* the option as written, for messages */
};

/* Options being parsed; handed over to the superblock by fill_super. */
struct cpa_fs_context {
	int nbranch;
	int capacity;
	int rw_index;			/* writable branch, or -1 */
	struct cpa_branch **branches;	/* [nbranch], top first */
	int ngiven;
	char **given;			/* [ngiven], as the user wrote them */
	char *xino_path;		/* xino=, made absolute, or NULL */
	bool noxino;			/* noxino: numbers in memory only */
	int metacopy;			/* metacopy/nometacopy: 1/0, or -1 */
	int udba;			/* udba=: enum cpa_udba, or -1 */
	int create;			/* create=: enum cpa_create_policy, or -1 */
	int mfs_secs;			/* create=...:<secs>, or -1 */
	u64 mfs_low;			/* create=tdmfs|mfsrr|pmfsrr:<low> */
	int cpup;			/* cpup=: enum cpa_cpup_policy, or -1 */
	int sum;			/* sum, wsum, nosum: enum cpa_sum, or -1 */
	struct cpa_brop *brops;		/* [nbrops], in the order given */
	int nbrops;
};

int cpa_init_fs_context(struct fs_context *fc);
const char *cpa_create_str(enum cpa_create_policy p);
const char *cpa_cpup_str(enum cpa_cpup_policy p);
__printf(2, 3) int cpa_invalf(struct fs_context *fc, const char *fmt, ...);
__printf(3, 4) int cpa_failf(struct fs_context *fc, int err,
			     const char *fmt, ...);

/* brops.c */
int cpa_brops_apply(struct fs_context *fc);
void cpa_branches_init(struct cpa_sb_info *sbi);

/* branch.c */
struct cpa_branch *cpa_branch_new(const struct path *path,
				  enum cpa_perm perm);
void cpa_branch_put(struct cpa_branch *br);
struct cpa_brtable *cpa_brtable_alloc(int nbranch);
void cpa_brtable_free(struct cpa_brtable *t);
struct cpa_wbrs *cpa_wbrs_new(struct cpa_branch **br, const enum cpa_perm *perm,
			      int n);
struct cpa_wbrs *cpa_wbrs_get(struct cpa_sb_info *sbi);
void cpa_wbrs_put(struct cpa_wbrs *w);

static inline struct cpa_branch *cpa_branch_get(struct cpa_branch *br)
{
	refcount_inc(&br->ref);
	return br;
}
bool cpa_br_above(struct super_block *sb, const struct cpa_branch *a,
		  const struct cpa_branch *b);
struct cpa_branch *cpa_br_writable_above(struct super_block *sb,
					 const struct cpa_branch *br);
const char *cpa_perm_str(enum cpa_perm perm);
char *cpa_branches_str(struct cpa_branch **br, int n, size_t *len);
int cpa_branch_mapped_add(struct cpa_branch *br, struct inode *inode);
int cpa_branch_mapped(struct cpa_branch *br);
int cpa_perm_parse(const char *s, enum cpa_perm *perm);

/* namei.c */
extern const struct dentry_operations cpa_dentry_ops;
extern const struct dentry_operations cpa_dentry_ops_reval;
struct dentry *cpa_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags);
int cpa_dir_remerge(struct dentry *dentry);
int cpa_dir_refresh(struct dentry *dentry);
void cpa_dir_fresh(struct dentry *dentry);
bool cpa_name_moved(struct dentry *dentry);
struct cpa_entry *cpa_lookup_entry(struct super_block *sb,
				   struct cpa_entry *pe, int from,
				   const char *name, int len);
struct inode *cpa_entry_inode(struct super_block *sb,
			      const struct cpa_entry *e);
struct cpa_entry *cpa_entry_alloc(int count);
int cpa_entry_demote(struct cpa_entry **ep);
void cpa_entry_free(struct cpa_entry *e);
void cpa_entries_drain(void);

/* inode.c */
extern const struct inode_operations cpa_dir_iops;
struct inode *cpa_get_inode(struct super_block *sb, struct dentry *h_dentry,
			    struct cpa_branch *br, unsigned long ino,
			    bool metacopy);
void cpa_copyattr(struct inode *inode);
void cpa_path_real(const struct dentry *dentry, struct path *path);
int cpa_plink_sync(struct dentry *dentry);

/* copy_up.c */
int cpa_copy_up(struct dentry *dentry);
int cpa_copy_up_len(struct dentry *dentry, loff_t len);
int cpa_copy_up_to_change(struct dentry *dentry, bool meta);
int cpa_copy_up_tree(struct dentry *dentry);
int cpa_copy_up_parents(struct dentry *dentry, struct cpa_branch *wbr);
struct cpa_branch *cpa_copyup_target(struct dentry *dentry);
/* cpa_create_slot() flags */
#define CPA_CREATE_DIR		1	/* a directory */
#define CPA_CREATE_UNNAMED	2	/* O_TMPFILE: no name to hide */
int cpa_create_slot(struct dentry *dentry, struct cpa_branch *force,
		    unsigned int flags);
void cpa_create_nospc(struct cpa_branch *br);

/* metacopy.c */
bool cpa_xattr_is_private(const char *name);
int cpa_metacopy_test(struct cpa_branch *br, struct dentry *h);
int cpa_metacopy_mark(const struct path *tmp);
int cpa_metacopy_unmark(const struct path *upper);
struct cpa_branch *cpa_path_data(const struct dentry *dentry,
				 struct path *path);

/* plink.c */
struct cpa_branch *cpa_plink_br_get(struct super_block *sb);
struct dentry *cpa_plink_find(struct cpa_branch *pbr, unsigned long ino);
int cpa_plink_add(struct cpa_branch *pbr, struct dentry *upper,
		  unsigned long ino);
struct dentry *cpa_plink_install(struct dentry *plink, struct dentry *upperdir,
				 const struct qstr *name);
long cpa_plink_lower_read(struct cpa_branch *pbr, unsigned long ino);
void cpa_plink_hide(struct inode *inode, struct cpa_branch *pbr,
		    unsigned int lower_nlink);
bool cpa_plink_name_gone(struct dentry *dentry);
unsigned int cpa_plink_nlink(struct inode *inode);

/* dir.c */
int cpa_create(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
	       umode_t mode, bool excl);
CPA_MKDIR_RET cpa_mkdir(CPA_IDMAP_PARAM struct inode *dir,
			struct dentry *dentry, umode_t mode);
int cpa_mknod(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
	      umode_t mode, dev_t rdev);
int cpa_symlink(CPA_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
		const char *target);
int cpa_link(struct dentry *old, struct inode *dir, struct dentry *new);
int cpa_tmpfile(CPA_IDMAP_PARAM struct inode *dir, CPA_TMPFILE_ARG arg,
		umode_t mode);
int cpa_unlink(struct inode *dir, struct dentry *dentry);
int cpa_rmdir(struct inode *dir, struct dentry *dentry);
int cpa_rename(CPA_IDMAP_PARAM struct inode *olddir, struct dentry *old,
	       struct inode *newdir, struct dentry *new, unsigned int flags);

/* file.c */
extern const struct file_operations cpa_file_fops;

/* ioctl.c */
void cpa_copyflags(struct inode *inode, const struct inode *real);
int cpa_fileattr_get(struct dentry *dentry, struct cpa_fileattr *fa);
int cpa_fileattr_set(CPA_IDMAP_PARAM struct dentry *dentry,
		     struct cpa_fileattr *fa);
int cpa_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
	       u64 start, u64 len);
long cpa_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long cpa_compat_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* readdir.c */
extern const struct file_operations cpa_dir_fops;
void cpa_dir_cache_put(struct cpa_dir_cache *cache);
void cpa_dir_changed(struct inode *dir);
int cpa_dir_empty(struct dentry *dentry);
int cpa_dir_for_each(struct super_block *sb, const struct cpa_entry *e,
		     int (*fn)(const char *name, int len, void *arg),
		     void *arg);

/* udba.c (cpa_udba_revalidate() is declared in compat.h) */
void cpa_udba_since(struct timespec64 *since);
u64 cpa_udba_stamp(const struct cpa_entry *e, const struct timespec64 *since);
bool cpa_udba_dir_stale(struct dentry *dentry);
bool cpa_udba_fresh(const struct cpa_entry *e);
void cpa_udba_checked(struct cpa_entry *e, u64 stamp);
bool cpa_udba_unchanged(struct dentry *dentry);
void cpa_udba_changed(struct dentry *dentry, bool unchanged);
struct cpa_entry *cpa_udba_lookup(struct super_block *sb, struct cpa_entry *pe,
				  const char *name, int len,
				  unsigned long *pgen, unsigned long *ngen);

/* notify.c; the two lockless reads of d_revalidate, in RCU-walk too */
/* The number of changes of watched branch directories reported so far. */
static inline unsigned long cpa_notify_gen(const struct super_block *sb)
{
	/* Pairs with the bump: what changed before it is seen. */
	return atomic_long_read_acquire(&CPA_SB(sb)->notify_gen);
}

/* Are the branch directories of the directory entry @e all watched? */
static inline bool cpa_notify_watched(const struct cpa_entry *e)
{
	/* Pairs with the release that publishes the marks: attached. */
	return smp_load_acquire(&e->watch) &&
	       READ_ONCE(e->watch_upper) == cpa_entry_upper(e);
}

void cpa_notify_watch(struct super_block *sb, struct cpa_entry *e,
		      struct inode *dir);
void cpa_notify_rewatch(struct super_block *sb, struct cpa_entry *e,
			struct inode *dir);
void cpa_notify_unwatch(struct cpa_entry *e, bool now);
int cpa_notify_init(struct cpa_sb_info *sbi);
void cpa_notify_fini(struct cpa_sb_info *sbi);
void cpa_notify_exit(void);

/* whhint.c */
int cpa_wh_lookup(struct super_block *sb, struct cpa_entry *pe, int i,
		  struct dentry *h_parent, const char *name, int len);
void cpa_wh_hint_forget(struct cpa_entry *pe, int i);
void cpa_wh_hints_free(struct cpa_entry *e);

/* whiteout.c */
bool cpa_is_wh_name(const char *name, int len);
bool cpa_is_wh_long(const char *name, int len);
bool cpa_is_wh_entry(const char *name, int len);
int cpa_wh_name(char *buf, const char *name, int len);
int cpa_wh_test(struct dentry *h_parent, const char *name, int len);
int cpa_wh_test_locked(struct dentry *h_parent, const char *name, int len);
int cpa_opaque_test(struct dentry *h_dir);
int cpa_wh_create(struct cpa_branch *br, struct dentry *h_dir,
		  const char *name, int len);
int cpa_wh_remove(struct dentry *h_dir, const char *name, int len);
int cpa_wh_make_opaque(struct cpa_branch *br, struct dentry *h_dir);
int cpa_wh_clear_dir(struct cpa_branch *br, struct dentry *h_dir);
int cpa_wbr_init(struct cpa_sb_info *sbi, struct fs_context *fc);
int cpa_wbr_init_one(struct cpa_sb_info *sbi, struct cpa_branch *br,
		     struct fs_context *fc);
void cpa_wbr_fini_one(struct cpa_branch *br);
void cpa_wbr_fini(struct cpa_sb_info *sbi);

/* xino.c */
int cpa_xino_init(struct cpa_sb_info *sbi, struct fs_context *fc);
void cpa_xino_fini(struct cpa_sb_info *sbi);
int cpa_xino_ino(struct super_block *sb, struct cpa_branch *br,
		 const struct inode *h_inode, unsigned long *ino);
int cpa_xino_find(struct super_block *sb, struct cpa_branch *br,
		  const struct inode *h_inode, unsigned long *ino);
int cpa_xino_ino_nogen(struct super_block *sb, struct cpa_branch *br,
		       u64 h_ino, unsigned long *ino);
int cpa_xino_set(struct super_block *sb, struct cpa_branch *br,
		 const struct inode *h_inode, unsigned long ino);
bool cpa_xino_is_file(struct super_block *sb, struct dentry *h_dentry);
bool cpa_xino_is_dirent(struct super_block *sb, const struct dentry *h_dir,
			u64 h_ino);
int cpa_xino_sync(struct super_block *sb);
int cpa_xino_add_branch(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_branch *br);
int cpa_xino_fsync(struct super_block *sb);
u32 cpa_xino_gen(struct super_block *sb, unsigned long ino);
void cpa_xino_forget(struct super_block *sb, struct cpa_branch *br,
		     u64 h_ino, unsigned long ino);

/* xattr.c */
extern const struct xattr_handler *cpa_xattr_handlers[];
ssize_t cpa_listxattr(struct dentry *dentry, char *list, size_t size);

/* acl.c (and cpa_get_inode_acl(), declared in compat.h) */
void cpa_acl_sb_init(struct super_block *sb);
void cpa_acl_inode_init(struct inode *inode);
umode_t cpa_acl_create_mode(struct inode *h_dir, umode_t mode);
int cpa_acl_xattr_perm(struct inode *inode, const char *name);
struct posix_acl *cpa_get_acl(CPA_IDMAP_PARAM struct dentry *dentry,
			      int type);
int cpa_set_acl(CPA_IDMAP_PARAM struct dentry *dentry, struct posix_acl *acl,
		int type);

/* sysfs.c */
int cpa_sysfs_init(void);
void cpa_sysfs_exit(void);
int cpa_sysfs_add(struct cpa_sb_info *sbi);
void cpa_sysfs_update(struct cpa_sb_info *sbi);
void cpa_sysfs_del(struct cpa_sb_info *sbi);

/* util.c */
const struct cred *cpa_override_creds(struct super_block *sb);
void cpa_revert_creds(const struct cred *old);
const struct cred *cpa_override_creds_owner(struct super_block *sb);
void cpa_revert_creds_owner(const struct cred *old);
void cpa_objects_inc(void);
void cpa_objects_dec(void);
long cpa_objects_count(void);

#endif /* _CPPAUFS_PRIV_H */
