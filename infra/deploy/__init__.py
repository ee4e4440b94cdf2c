"""Functions that run during a deploy, never behind the API: the CloudFormation custom
resources that make the key material and apply migrations, and the canary deploy's
PreTraffic hook. `make package` ships them with infra/migrate.py and infra/migrations
(the ``build-DeployFunctions`` target of the Makefile)."""
