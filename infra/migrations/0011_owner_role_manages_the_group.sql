-- The role catalogue (0008) was written before MANAGE_GROUP (1 << 13, 0010) existed: the
-- owner role holds every flag, that one included. (A test keeps role_permissions equal to
-- tenancy.permissions.ROLE_DEFAULTS.)
UPDATE role_permissions SET permissions = permissions | 8192 WHERE role = 'owner';
