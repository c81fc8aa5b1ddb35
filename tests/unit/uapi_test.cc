// The UAPI header compiles as C++ and holds what the tools rely on.
#include <catch2/catch.hpp>

#include <cstring>

#include "cppaufs.h"

static_assert(CPPAUFS_BRANCH_MAX == 1023, "tools' messages say 1023");
static_assert(CPPAUFS_SI_ID_DIGITS == 16, "si ids are 16 hex digits");
static_assert(CPPAUFS_BRANCH_SEP == ':' && CPPAUFS_PERM_SEP == '=', "grammar");

TEST_CASE("UAPI names match the sysfs and mount contract", "[uapi]")
{
	CHECK(std::strcmp(CPPAUFS_NAME, "cppaufs") == 0);
	CHECK(std::strcmp(CPPAUFS_SYSFS_DIR, "/sys/fs/cppaufs") == 0);
	CHECK(CPPAUFS_SUPER_MAGIC == 0x43504155);
	CHECK(std::strcmp(CPPAUFS_OPT_DIRS, "dirs") == 0);
	CHECK(std::strcmp(CPPAUFS_OPT_BR, "br") == 0);
}
