// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: small helpers shared by every file.
 */
#include <linux/atomic.h>
#include "cppaufs.h"

/*
 * Calls into branches run with the mounter's credentials, once the
 * caller's were checked against the union inode.
 */
const struct cred *cpa_override_creds(struct super_block *sb)
{
	return override_creds(CPA_SB(sb)->creator_cred);
}

void cpa_revert_creds(const struct cred *old)
{
	revert_creds(old);
}

/*
 * The mounter's credentials with the caller's fsuid and fsgid, so that
 * what is created on a branch belongs to the caller.  Undo with
 * cpa_revert_creds().
 */
const struct cred *cpa_override_creds_owner(struct super_block *sb)
{
	kuid_t fsuid = current_fsuid();
	kgid_t fsgid = current_fsgid();
	const struct cred *old;
	struct cred *new;

	old = cpa_override_creds(sb);
	new = prepare_creds();
	if (!new)
		return old;	/* creates as the mounter */
	new->fsuid = fsuid;
	new->fsgid = fsgid;
	/* Drop the reference the first override took; new replaces it. */
	put_cred(override_creds(new));
	put_cred(new);
	return old;
}

/*
 * Objects the module allocates outside its slab cache (entries, listings,
 * open directories); unloading with any left is reported as a leak.
 */
static atomic_long_t cpa_objects = ATOMIC_LONG_INIT(0);

void cpa_objects_inc(void)
{
	atomic_long_inc(&cpa_objects);
}

void cpa_objects_dec(void)
{
	atomic_long_dec(&cpa_objects);
}

long cpa_objects_count(void)
{
	return atomic_long_read(&cpa_objects);
}
