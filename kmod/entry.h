/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: per-superblock, per-branch, per-dentry and per-inode state, and
 * the accessors that keep every container_of and s_fs_info cast in one place.
 *
 * Lock order (outermost first):
 *   union directory inode lock (VFS)
 *     cpa_inode.lock
 *       branch directory inode locks, parent before child (I_MUTEX_PARENT)
 *         cpa_branch.xino lock (xarray internal spinlock)
 */
#ifndef _CPPAUFS_ENTRY_H
#define _CPPAUFS_ENTRY_H

#include <linux/fs.h>
#include <linux/path.h>
#include <linux/kobject.h>
#include <linux/completion.h>
#include <linux/xarray.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>

/* What the union may do with a branch. */
enum cpa_perm {
	CPA_PERM_RO,	/* read-only through the union */
	CPA_PERM_RR,	/* really read-only: nobody writes the branch fs */
	CPA_PERM_RW,	/* the writable branch: copy-up target */
};

/* One branch, fixed for the life of the mount. */
struct cpa_branch {
	struct path path;	/* root of the branch, referenced */
	char *name;		/* absolute path, as sysfs shows it */
	enum cpa_perm perm;
	int id;			/* brid: stable id of the branch */
	/* xino: branch inode number -> union inode number (xino.c) */
	struct xarray xino;
};

/* What sysfs.c shows for one mount. */
struct cpa_sysfs {
	struct kobject kobj;		/* /sys/fs/cppaufs/si_<id> */
	struct completion released;	/* signalled by the kobject release */
	struct attribute_group group;
	struct attribute **attrs;	/* NULL-terminated, for group */
	struct cpa_sysfs_attr *items;	/* backing storage for attrs */
};

/* Per superblock: s_fs_info. */
struct cpa_sb_info {
	struct super_block *sb;
	u64 id;			/* si id, shown as si_<16 hex digits> */
	int nbranch;
	int rw_index;		/* index of the writable branch, or -1 */
	struct cpa_branch *branches;	/* [nbranch], top first */
	const struct cred *creator_cred; /* credentials of the mounter */
	atomic64_t next_ino;	/* next free union inode number */
	char *xino_path;	/* where the xino file lives, or NULL */
	struct cpa_sysfs sysfs;
};

/* A dentry of a branch filesystem that backs a union dentry. */
struct cpa_hdentry {
	int bindex;		/* branch index, 0 is the top */
	struct dentry *dentry;	/* referenced */
};

/*
 * Per union dentry (d_fsdata): where the object exists, top-down, after
 * whiteouts and opaque directories were applied.  Immutable once set;
 * a non-directory has exactly one entry, a directory one per merged branch.
 */
struct cpa_entry {
	int count;
	struct cpa_hdentry h[];
};

/* Shared, refcounted snapshot of a merged directory listing (readdir.c). */
struct cpa_dir_cache;

/* Per union inode. */
struct cpa_inode {
	struct inode vfs_inode;
	/* backing inode attributes come from; referenced, never NULL */
	struct inode *real;
	int bindex;		/* branch of real */
	/* protects cache and version: serialises directory cache builds */
	struct mutex lock;
	struct cpa_dir_cache *cache;
	u64 version;		/* bumped whenever the directory changes */
};

static inline struct cpa_sb_info *CPA_SB(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct cpa_inode *CPA_I(const struct inode *inode)
{
	return container_of(inode, struct cpa_inode, vfs_inode);
}

static inline struct cpa_entry *CPA_E(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

static inline struct cpa_branch *cpa_branch(const struct super_block *sb,
					    int bindex)
{
	return &CPA_SB(sb)->branches[bindex];
}

/* The topmost backing dentry of a positive union dentry. */
static inline struct dentry *cpa_dentry_real(const struct dentry *dentry)
{
	return CPA_E(dentry)->h[0].dentry;
}

static inline int cpa_dentry_bindex(const struct dentry *dentry)
{
	return CPA_E(dentry)->h[0].bindex;
}

static inline struct inode *cpa_inode_real(const struct inode *inode)
{
	return CPA_I(inode)->real;
}

static inline bool cpa_branch_writable(const struct super_block *sb,
				       int bindex)
{
	return cpa_branch(sb, bindex)->perm == CPA_PERM_RW;
}

#endif /* _CPPAUFS_ENTRY_H */
