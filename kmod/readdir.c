// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: merged directory listings.
 *
 * The first readdir of a directory reads every branch that holds it,
 * top-down, and keeps each name once: the topmost branch's entry wins, a
 * whiteout ".wh.<name>" hides <name> in the branches below its own, and no
 * ".wh." name is listed.  The result is an array, so a position is an
 * index and seeking is exact.  The snapshot is shared by the open files of
 * the directory and rebuilt when the directory changed and a reader starts
 * over (position 0), so concurrent readers each see a stable listing.
 */
#include <linux/slab.h>
#include <linux/hash.h>
#include <linux/stringhash.h>
#include <linux/refcount.h>
#include <linux/mm.h>
#include "cppaufs.h"

struct cpa_dirent {
	struct cpa_dirent *next;	/* in its cpa_rdbuild.names chain */
	u32 hash;		/* of the name */
	u64 ino;		/* union inode number */
	unsigned int type;	/* DT_* */
	bool hidden;		/* a whiteout: hides the name, not listed */
	int len;
	char name[];
};

#define CPA_ARENA_CHUNK		(16 * 1024)

/* Bump allocator for entries: freed all at once with the cache. */
struct cpa_arena {
	struct cpa_arena *next;
	size_t used;
	char data[];
};

struct cpa_dir_cache {
	refcount_t ref;
	u64 version;
	/* udba=reval|notify: the stamp of the branch directories read, or 0 */
	u64 stamp;
	unsigned int count;		/* listed entries */
	struct cpa_dirent **ents;	/* [count], in listing order */
	struct cpa_arena *arena;
};

/* State while reading the branches of one directory. */
struct cpa_rdbuild {
	struct dir_context ctx;
	struct super_block *sb;
	struct cpa_dir_cache *cache;
	/* names seen so far, listed or whited out: a hash table */
	struct cpa_dirent **names;
	unsigned int nbits;		/* of its size */
	unsigned int nnames;
	unsigned int capacity;		/* of cache->ents */
	struct cpa_branch *br;		/* branch being read */
	struct dentry *h_dir;		/* its directory */
	unsigned int added;		/* names seen in this iterate_dir */
	struct cpa_dirent **wh;		/* whiteouts of the current branch */
	unsigned int nwh, whcap;
	int err;
};

/* Per open directory. */
struct cpa_dir_file {
	struct cpa_dir_cache *cache;
};

static void *cpa_arena_alloc(struct cpa_dir_cache *cache, size_t size)
{
	struct cpa_arena *a = cache->arena;
	void *p;

	size = ALIGN(size, sizeof(void *));
	if (!a || a->used + size > CPA_ARENA_CHUNK) {
		size_t chunk = max_t(size_t, CPA_ARENA_CHUNK, size);

		a = kvmalloc(struct_size(a, data, chunk), GFP_KERNEL);
		if (!a)
			return NULL;
		a->used = 0;
		a->next = cache->arena;
		cache->arena = a;
	}
	p = a->data + a->used;
	a->used += size;
	return p;
}

static void cpa_dir_cache_free(struct cpa_dir_cache *cache)
{
	struct cpa_arena *a, *next;

	for (a = cache->arena; a; a = next) {
		next = a->next;
		kvfree(a);
	}
	kvfree(cache->ents);
	kfree(cache);
	cpa_objects_dec();
}

/* Invalidate the listing of the union directory @dir. */
void cpa_dir_changed(struct inode *dir)
{
	struct cpa_inode *ci = CPA_I(dir);

	mutex_lock(&ci->lock);
	ci->version++;
	mutex_unlock(&ci->lock);
}

void cpa_dir_cache_put(struct cpa_dir_cache *cache)
{
	if (cache && refcount_dec_and_test(&cache->ref))
		cpa_dir_cache_free(cache);
}

/* Grow a pointer array; kvrealloc() differs between kernels. */
static int cpa_grow(struct cpa_dirent ***arr, unsigned int used,
		    unsigned int *cap)
{
	unsigned int ncap = max(64U, *cap * 2);
	struct cpa_dirent **n;

	if (used < *cap)
		return 0;
	n = kvmalloc_array(ncap, sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	if (*arr) {
		memcpy(n, *arr, used * sizeof(*n));
		kvfree(*arr);
	}
	*arr = n;
	*cap = ncap;
	return 0;
}

/*
 * The entry of @name (hash @hash) seen so far, if any.  A hash table, not a
 * tree: names of one directory often share a long prefix, and a tree
 * compared each of them about log2(n) times (40 % of a cold listing of
 * 10,000 names).
 */
static struct cpa_dirent *cpa_rd_find(struct cpa_rdbuild *rd,
				      const char *name, int len, u32 hash)
{
	struct cpa_dirent *d;

	if (!rd->names)
		return NULL;
	d = rd->names[hash_32(hash, rd->nbits)];
	for (; d; d = d->next)
		if (d->hash == hash && d->len == len &&
		    !memcmp(d->name, name, len))
			return d;
	return NULL;
}

/* Add @d, not yet there, doubling the table when it is full. */
static int cpa_rd_insert(struct cpa_rdbuild *rd, struct cpa_dirent *d)
{
	struct cpa_dirent **slot;

	/* At most half full: chains stay short. */
	if (rd->nnames >= (1U << rd->nbits) >> 1) {
		unsigned int nbits = rd->names ? rd->nbits + 1 : 6;
		struct cpa_dirent **n, *e, *next;
		unsigned int i;

		n = kvcalloc(1U << nbits, sizeof(*n), GFP_KERNEL);
		if (!n)
			return -ENOMEM;
		for (i = 0; rd->names && i < (1U << rd->nbits); i++) {
			for (e = rd->names[i]; e; e = next) {
				next = e->next;
				slot = &n[hash_32(e->hash, nbits)];
				e->next = *slot;
				*slot = e;
			}
		}
		kvfree(rd->names);
		rd->names = n;
		rd->nbits = nbits;
	}
	slot = &rd->names[hash_32(d->hash, rd->nbits)];
	d->next = *slot;
	*slot = d;
	rd->nnames++;
	return 0;
}

static struct cpa_dirent *cpa_rd_new(struct cpa_rdbuild *rd,
				     const char *name, int len, u32 hash)
{
	struct cpa_dirent *d;

	d = cpa_arena_alloc(rd->cache, struct_size(d, name, len + 1));
	if (!d)
		return NULL;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->len = len;
	d->hash = hash;
	d->hidden = false;
	return d;
}

static int cpa_rd_add(struct cpa_rdbuild *rd, const char *name, int len,
		      u64 h_ino, unsigned int type)
{
	struct cpa_dir_cache *cache = rd->cache;
	u32 hash = full_name_hash(NULL, name, len);
	struct cpa_dirent *d;
	unsigned long ino;
	int err;

	if (cpa_rd_find(rd, name, len, hash))
		return 0;	/* listed or whited out higher up */
	/* A long name is whited out by the digest of its name. */
	if (len > NAME_MAX - CPPAUFS_WH_PREFIX_LEN) {
		char wh[NAME_MAX + 1];
		int wlen = cpa_wh_name(wh, name, len);

		if (cpa_rd_find(rd, wh, wlen, full_name_hash(NULL, wh, wlen)))
			return 0;
	}

	err = cpa_xino_ino_nogen(rd->sb, rd->br, h_ino, &ino);
	if (err)
		return err;
	err = cpa_grow(&cache->ents, cache->count, &rd->capacity);
	if (err)
		return err;
	d = cpa_rd_new(rd, name, len, hash);
	if (!d)
		return -ENOMEM;
	d->ino = ino;
	d->type = type;
	err = cpa_rd_insert(rd, d);
	if (err)
		return err;
	cache->ents[cache->count++] = d;
	return 0;
}

/* Remember a whiteout; it takes effect once its branch is read. */
static int cpa_rd_whiteout(struct cpa_rdbuild *rd, const char *name, int len)
{
	struct cpa_dirent *d;
	int err;

	err = cpa_grow(&rd->wh, rd->nwh, &rd->whcap);
	if (err)
		return err;
	d = cpa_rd_new(rd, name, len, full_name_hash(NULL, name, len));
	if (!d)
		return -ENOMEM;
	d->hidden = true;
	rd->wh[rd->nwh++] = d;
	return 0;
}

static int cpa_rd_apply_whiteouts(struct cpa_rdbuild *rd)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < rd->nwh && !err; i++) {
		struct cpa_dirent *d = rd->wh[i];

		if (!cpa_rd_find(rd, d->name, d->len, d->hash))
			err = cpa_rd_insert(rd, d);
	}
	rd->nwh = 0;
	return err;
}

static CPA_FILLDIR_RET cpa_rd_actor(struct dir_context *ctx, const char *name,
				    int len, loff_t offset, u64 ino,
				    unsigned int type)
{
	struct cpa_rdbuild *rd = container_of(ctx, struct cpa_rdbuild, ctx);
	int plen = CPPAUFS_WH_PREFIX_LEN;

	rd->added++;
	if (name[0] == '.' &&
	    (len == 1 || (len == 2 && name[1] == '.')))
		return cpa_filldir_ret(true);

	if (cpa_is_wh_long(name, len)) {
		/* Kept whole: cpa_rd_add() looks a long name up by it. */
		rd->err = cpa_rd_whiteout(rd, name, len);
	} else if (cpa_is_wh_name(name, len)) {
		/* ".wh..wh.*" are internal files, not whiteouts. */
		if (cpa_is_wh_name(name + plen, len - plen))
			return cpa_filldir_ret(true);
		rd->err = cpa_rd_whiteout(rd, name + plen, len - plen);
	} else if (!cpa_xino_is_dirent(rd->sb, rd->h_dir, ino)) {
		/* The xino file may live in a branch: it is never listed. */
		rd->err = cpa_rd_add(rd, name, len, ino, type);
	}
	return cpa_filldir_ret(rd->err == 0);
}

static int cpa_rd_branch(struct cpa_rdbuild *rd, const struct path *path)
{
	struct file *realfile;
	int err;

	realfile = cpa_do_open(path, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	/* Some filesystems hand out a directory in several batches. */
	do {
		rd->added = 0;
		err = iterate_dir(realfile, &rd->ctx);
		if (!err)
			err = rd->err;
	} while (!err && rd->added);
	fput(realfile);
	return err;
}

/* The merged listing of the directory whose branch dentries are @e. */
static struct cpa_dir_cache *cpa_dir_list(struct super_block *sb,
					  const struct cpa_entry *e)
{
	struct cpa_rdbuild rd = {
		.ctx.actor	= cpa_rd_actor,
		.sb		= sb,
	};
	const struct cred *old;
	int i, err = 0;

	rd.cache = kzalloc(sizeof(*rd.cache), GFP_KERNEL);
	if (!rd.cache)
		return ERR_PTR(-ENOMEM);
	cpa_objects_inc();
	refcount_set(&rd.cache->ref, 1);

	old = cpa_override_creds(sb);
	for (i = 0; i < e->count && !err; i++) {
		/* The object first: an empty upper slot has no branch. */
		struct path path = { .dentry = cpa_entry_dentry(e, i) };

		if (!path.dentry)
			continue;
		rd.br = cpa_entry_br(sb, e, i);
		path.mnt = rd.br->path.mnt;
		rd.h_dir = path.dentry;
		rd.ctx.pos = 0;
		err = cpa_rd_branch(&rd, &path);
		if (!err)
			err = cpa_rd_apply_whiteouts(&rd);
	}
	cpa_revert_creds(old);
	kvfree(rd.wh);
	kvfree(rd.names);

	if (err) {
		cpa_dir_cache_free(rd.cache);
		return ERR_PTR(err);
	}
	return rd.cache;
}

/*
 * A directory in use keeps its number when a change of branches gives it
 * another top object, which the xino file learns only once the directory
 * is refreshed (cpa_dir_rebase()): until then its name lists the number
 * of the inode in use, not the one the new top object has in the file.
 */
static void cpa_dir_list_in_use(struct dentry *dir,
				struct cpa_dir_cache *cache)
{
	unsigned int i;

	for (i = 0; i < cache->count; i++) {
		struct cpa_dirent *d = cache->ents[i];
		struct qstr name = QSTR_INIT(d->name, d->len);
		struct dentry *child;

		if (d->type != DT_DIR)
			continue;
		/* The union's dentries have no ->d_hash. */
		name.hash = full_name_hash(dir, d->name, d->len);
		child = d_lookup(dir, &name);
		if (!child)
			continue;
		if (d_is_dir(child))
			d->ino = d_inode(child)->i_ino;
		dput(child);
	}
}

static struct cpa_dir_cache *cpa_dir_cache_build(struct dentry *dentry)
{
	struct cpa_dir_cache *cache = cpa_dir_list(dentry->d_sb,
						   CPA_E(dentry));

	if (!IS_ERR(cache))
		cpa_dir_list_in_use(dentry, cache);
	return cache;
}

/*
 * Call @fn for each name the directory with branch dentries @e lists, in
 * listing order, until it returns non-zero.
 */
int cpa_dir_for_each(struct super_block *sb, const struct cpa_entry *e,
		     int (*fn)(const char *name, int len, void *arg),
		     void *arg)
{
	struct cpa_dir_cache *cache = cpa_dir_list(sb, e);
	unsigned int i;
	int err = 0;

	if (IS_ERR(cache))
		return PTR_ERR(cache);
	for (i = 0; i < cache->count && !err; i++)
		err = fn(cache->ents[i]->name, cache->ents[i]->len, arg);
	cpa_dir_cache_put(cache);
	return err;
}

/* 0 if the union directory @dentry lists nothing, else -ENOTEMPTY. */
int cpa_dir_empty(struct dentry *dentry)
{
	struct cpa_dir_cache *cache = cpa_dir_cache_build(dentry);
	int err;

	if (IS_ERR(cache))
		return PTR_ERR(cache);
	err = cache->count ? -ENOTEMPTY : 0;
	cpa_dir_cache_put(cache);
	return err;
}

/*
 * With udba=reval|notify, was the listing @cache of the directory @dentry read
 * before its branch directories last changed?
 */
static bool cpa_dir_cache_stale(struct dentry *dentry,
				const struct cpa_dir_cache *cache)
{
	if (CPA_SB(dentry->d_sb)->udba == CPA_UDBA_NONE)
		return false;
	return !cache->stamp ||
	       cache->stamp != cpa_udba_stamp(CPA_E(dentry), NULL);
}

/* A reference to an up-to-date listing of the directory of @file. */
static struct cpa_dir_cache *cpa_dir_cache_get(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct cpa_inode *ci = CPA_I(d_inode(dentry));
	struct cpa_dir_cache *cache;
	struct timespec64 since;
	u64 stamp;

	/*
	 * A working directory from before a change of branches, or whose
	 * branch directories changed (udba=reval).
	 */
	cpa_dir_fresh(dentry);
	mutex_lock(&ci->lock);
	cache = ci->cache;
	if (!cache || cache->version != ci->version ||
	    cpa_dir_cache_stale(dentry, cache)) {
		/* Before reading: a change made meanwhile changes it. */
		cpa_udba_since(&since);
		stamp = cpa_udba_stamp(CPA_E(dentry), &since);
		cache = cpa_dir_cache_build(dentry);
		if (IS_ERR(cache))
			goto unlock;
		cache->version = ci->version;
		cache->stamp = stamp;
		cpa_dir_cache_put(ci->cache);
		ci->cache = cache;
	}
	refcount_inc(&cache->ref);
unlock:
	mutex_unlock(&ci->lock);
	return cache;
}

static int cpa_iterate(struct file *file, struct dir_context *ctx)
{
	CPA_ENTRIES_GUARD();
	struct cpa_dir_file *df = file->private_data;
	struct cpa_dir_cache *cache;
	loff_t i;

	if (!dir_emit_dots(file, ctx))
		return 0;

	/* Position 2 is the first entry: (re)start from a fresh listing. */
	if (!df->cache || ctx->pos == 2) {
		cache = cpa_dir_cache_get(file);
		if (IS_ERR(cache))
			return PTR_ERR(cache);
		cpa_dir_cache_put(df->cache);
		df->cache = cache;
	}

	cache = df->cache;
	for (i = ctx->pos - 2; i < cache->count; i++) {
		struct cpa_dirent *d = cache->ents[i];

		if (!dir_emit(ctx, d->name, d->len, d->ino, d->type))
			break;
		ctx->pos++;
	}
	return 0;
}

static loff_t cpa_dir_llseek(struct file *file, loff_t offset, int whence)
{
	switch (whence) {
	case SEEK_CUR:
		offset += file->f_pos;
		break;
	case SEEK_SET:
		break;
	default:
		return -EINVAL;
	}
	if (offset < 0)
		return -EINVAL;
	file->f_pos = offset;
	return offset;
}

static int cpa_dir_open(struct inode *inode, struct file *file)
{
	struct cpa_dir_file *df = kzalloc(sizeof(*df), GFP_KERNEL);

	if (!df)
		return -ENOMEM;
	cpa_objects_inc();
	file->private_data = df;
	return 0;
}

static int cpa_dir_release(struct inode *inode, struct file *file)
{
	struct cpa_dir_file *df = file->private_data;

	cpa_dir_cache_put(df->cache);
	kfree(df);
	cpa_objects_dec();
	return 0;
}

/* Only the topmost branch's directory can hold anything to sync. */
static int cpa_dir_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	CPA_ENTRIES_GUARD();
	struct dentry *dentry = file->f_path.dentry;
	const struct cred *old;
	struct path realpath;
	struct file *real;
	int err;

	/* The union inode numbers of its entries are as durable as they. */
	err = cpa_xino_fsync(dentry->d_sb);
	if (err)
		return err;
	if (!cpa_branch_writable(cpa_dentry_br(dentry)))
		return 0;
	cpa_path_real(dentry, &realpath);
	old = cpa_override_creds(dentry->d_sb);
	real = cpa_do_open(&realpath, O_RDONLY | O_DIRECTORY, current_cred());
	cpa_revert_creds(old);
	if (IS_ERR(real))
		return PTR_ERR(real);
	err = vfs_fsync_range(real, start, end, datasync);
	fput(real);
	return err;
}

const struct file_operations cpa_dir_fops = {
	.open		= cpa_dir_open,
	.release	= cpa_dir_release,
	.llseek		= cpa_dir_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= cpa_iterate,
	.fsync		= cpa_dir_fsync,
	CPA_ATTR_IOCTL_FOPS
};
