/*
 * attr.c - event attributes. Plain data; events copy what they need at
 * init, so an attribute object may be destroyed or changed afterwards.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int
once_attr_init(once_attr_t *attr)
{
	if (!attr)
		return EINVAL;
	memset(attr, 0, sizeof(*attr));
	return 0;
}

int
once_attr_destroy(once_attr_t *attr)
{
	return attr ? 0 : EINVAL;
}

int
once_attr_setdestructor(once_attr_t *attr, once_destructor_fn *dtor)
{
	if (!attr)
		return EINVAL;
	attr->dtor_ = dtor;
	return 0;
}

int
once_attr_setspin(once_attr_t *attr, unsigned int spin_ns)
{
	if (!attr)
		return EINVAL;
	if (spin_ns == ONCE_SPIN_DEFAULT) {
		attr->flags_ &= ~ONCE__ATTR_SPIN;
		attr->spin_ns_ = 0;
		return 0;
	}
	if (spin_ns > ONCE_SPIN_MAX)
		return EINVAL;
	attr->flags_ |= ONCE__ATTR_SPIN;
	attr->spin_ns_ = spin_ns;
	return 0;
}

int
once_attr_setpshared(once_attr_t *attr, int pshared)
{
	if (!attr ||
	    (pshared != ONCE_PROCESS_PRIVATE && pshared != ONCE_PROCESS_SHARED))
		return EINVAL;
	if (pshared == ONCE_PROCESS_SHARED)
		attr->flags_ |= ONCE__ATTR_PSHARED;
	else
		attr->flags_ &= ~ONCE__ATTR_PSHARED;
	return 0;
}

int
once_attr_setallocator(once_attr_t *attr, once_alloc_fn *alloc,
		       once_free_fn *free_fn, void *ctx)
{
	if (!attr || !alloc != !free_fn)
		return EINVAL;
	attr->alloc_ = alloc;
	attr->free_ = free_fn;
	attr->ctx_ = ctx;
	return 0;
}
