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
/* First union inode number handed out by xino; below are reserved. */
#define CPA_FIRST_INO		11

/*
 * Calls into branch filesystems.  Every one goes through here, so that
 * pr_debug (dynamic debug) can trace what the union asks of a branch.
 */
static inline struct dentry *cpa_do_lookup(struct dentry *h_parent,
					   const char *name, int len)
{
	struct dentry *d = lookup_one_len_unlocked(name, h_parent, len);

	pr_debug("lookup(%pd2/%.*s) = %pe\n", h_parent, len, name,
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
	ssize_t err = vfs_getxattr(cpa_mnt_idmap(path->mnt), path->dentry,
				   name, value, size);

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
	int err = vfs_setxattr(cpa_mnt_idmap(path->mnt), path->dentry, name,
			       value, size, flags);

	pr_debug("setxattr(%pd2, %s) = %i\n", path->dentry, name, err);
	return err;
}

static inline int cpa_do_removexattr(const struct path *path,
				     const char *name)
{
	int err = vfs_removexattr(cpa_mnt_idmap(path->mnt), path->dentry,
				  name);

	pr_debug("removexattr(%pd2, %s) = %i\n", path->dentry, name, err);
	return err;
}

/* Caller holds the inode lock of path->dentry. */
static inline int cpa_do_notify_change(const struct path *path,
				       struct iattr *attr)
{
	int err = notify_change(cpa_mnt_idmap(path->mnt), path->dentry, attr,
				NULL);

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

/* super.c */
extern struct file_system_type cpa_fs_type;
int cpa_fill_super(struct super_block *sb, struct fs_context *fc);

/* params.c */
/* Options being parsed; handed over to the superblock by fill_super. */
struct cpa_fs_context {
	int nbranch;
	int capacity;
	int rw_index;			/* writable branch, or -1 */
	struct cpa_branch *branches;	/* [nbranch], top first */
	int ngiven;
	char **given;			/* [ngiven], as the user wrote them */
};

int cpa_init_fs_context(struct fs_context *fc);
__printf(2, 3) int cpa_invalf(struct fs_context *fc, const char *fmt, ...);

/* branch.c */
int cpa_branch_init(struct cpa_branch *br, const struct path *path,
		    enum cpa_perm perm);
void cpa_branch_fini(struct cpa_branch *br);
const char *cpa_perm_str(enum cpa_perm perm);
int cpa_perm_parse(const char *s, enum cpa_perm *perm);

/* namei.c */
extern const struct dentry_operations cpa_dentry_ops;
struct dentry *cpa_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags);
struct cpa_entry *cpa_entry_alloc(int count);
void cpa_entry_free(struct cpa_entry *e);

/* inode.c */
extern const struct inode_operations cpa_dir_iops;
struct inode *cpa_get_inode(struct super_block *sb, struct dentry *h_dentry,
			    int bindex, unsigned long ino);
void cpa_copyattr(struct inode *inode);
void cpa_path_real(const struct dentry *dentry, struct path *path);

/* file.c */
extern const struct file_operations cpa_file_fops;

/* readdir.c */
extern const struct file_operations cpa_dir_fops;
void cpa_dir_cache_put(struct cpa_dir_cache *cache);

/* whiteout.c */
bool cpa_is_wh_name(const char *name, int len);
int cpa_wh_test(struct dentry *h_parent, const char *name, int len);
int cpa_opaque_test(struct dentry *h_dir);

/* xino.c */
int cpa_xino_init(struct cpa_sb_info *sbi);
void cpa_xino_fini(struct cpa_sb_info *sbi);
int cpa_xino_ino(struct super_block *sb, int bindex, u64 h_ino,
		 unsigned long *ino);

/* xattr.c */
extern const struct xattr_handler *cpa_xattr_handlers[];
ssize_t cpa_listxattr(struct dentry *dentry, char *list, size_t size);

/* sysfs.c */
int cpa_sysfs_init(void);
void cpa_sysfs_exit(void);
int cpa_sysfs_add(struct cpa_sb_info *sbi);
void cpa_sysfs_del(struct cpa_sb_info *sbi);

/* util.c */
const struct cred *cpa_override_creds(struct super_block *sb);
void cpa_revert_creds(const struct cred *old);
void cpa_objects_inc(void);
void cpa_objects_dec(void);
long cpa_objects_count(void);

#endif /* _CPPAUFS_PRIV_H */
