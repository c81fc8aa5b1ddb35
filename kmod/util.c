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
