/**
 * Instance functions about archive stores, search indexes, statistics and archive admin access.
 * Names, types, optionality and descriptions follow Management-API-Function-Reference.md
 * (generated there from SPE's own get-metadata); keep them byte-for-byte so published clients
 * (mssapi, the PowerShell library) build the same calls against Coffer.
 */
import { fn, str, num, bool, json, INSTANCE_ID, STORE_STATES, LONG_RUNNING, type FunctionDeclaration } from './declare.js';

export const INSTANCE_ARCHIVE_FUNCTIONS: readonly FunctionDeclaration[] = [
  fn('AttachStore', 'Attach existing archive store.', [
    INSTANCE_ID,
    str('name', 'Meaningful name of archive store.'),
    str('databasePath', 'Path of the directory containing the archive store database. When it is the only given path argument, the values for contentPath and indexPath are determined automatically.', { aliases: ['path'] }),
    str('contentPath', 'Path of directory containing archive store content.', { nullable: true }),
    str('indexPath', 'Path of directory containing archive store index files.', { nullable: true }),
    str('requestedState', 'State of archive store after attaching.', { nullable: true, values: STORE_STATES }),
  ]),
  fn('CompactStore', 'Compact archive store.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store'),
  ], LONG_RUNNING),
  fn('CreateClientOneTimeUrlForArchiveAdmin', 'Create URL including OTP for $archiveadmin access.', [
    INSTANCE_ID,
    str('instanceUrl', 'Base URL for accessing instance.', { nullable: true }),
  ]),
  fn('CreateStore', 'Create and attach a new archive store.', [
    INSTANCE_ID,
    str('name', 'Meaningful name of archive store.'),
    str('databasePath', 'Path of the directory containing the archive store database. When it is the only given path argument, the values for contentPath and indexPath are determined automatically.', { aliases: ['path'] }),
    str('contentPath', 'Path of directory containing archive store content.', { nullable: true }),
    str('indexPath', 'Path of directory containing archive store index files.', { nullable: true }),
    str('requestedState', 'State of archive store after attaching.', { nullable: true, values: STORE_STATES }),
  ]),
  fn('DetachStore', 'Detach archive store', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
  ]),
  fn('GetArchiveAdminEnabled', 'Get current state of archive admin access.', [
    INSTANCE_ID,
  ]),
  fn('GetIndexConfiguration', 'Get list of attachment file types to index.', [
    INSTANCE_ID,
  ]),
  fn('GetInstanceProcessLiveStatistics', 'Get live statistics from instance process.', [
    INSTANCE_ID,
  ]),
  fn('GetInstanceStatistics', 'Get archive statistics from instance.', [
    INSTANCE_ID,
  ]),
  fn('GetStoreAutoCreateConfiguration', 'Get automatic archive store creation settings.', [
    INSTANCE_ID,
  ]),
  fn('GetStores', 'Get list of archive stores.', [
    INSTANCE_ID,
    bool('includeSize', 'Includes size of archive store. Default: true. May be slow when running on slow hardware.', { nullable: true }),
  ]),
  fn('MaintainFileSystemDatabases', 'Execute maintenance task on archive store databases.', [
    INSTANCE_ID,
  ], LONG_RUNNING),
  fn('MergeStore', 'Merge two archive stores.', [
    INSTANCE_ID,
    num('id', 'Unique ID of destination archive store.'),
    num('sourceId', 'Unique ID of source archive store.'),
  ], LONG_RUNNING),
  fn('RebuildSelectedStoreIndexes', 'Rebuild search indexes of selected archive stores.', [
    INSTANCE_ID,
  ], LONG_RUNNING),
  fn('RecoverStore', 'Recreates a broken Firebird database from recovery records. The archive store must have been upgraded to the latest version and the recovery records must not be corrupt. The archive store must be in the Disabled or Error state.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
    str('encryptionKey', 'Encryption key of the archive store.', { nullable: true }),
  ], LONG_RUNNING),
  fn('RecreateRecoveryRecords', 'Recreates broken Recovery Records of an archive store. Use VerifyStore to verify the state of the Recovery Records.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
  ], LONG_RUNNING),
  fn('RefreshAllStoreStatistics', 'Refresh archive store statistics.', [
    INSTANCE_ID,
  ], LONG_RUNNING),
  fn('RenameStore', 'Rename archive store', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
    str('name', 'New name of archive store.'),
  ]),
  fn('RepairStoreDatabase', 'Tries to resolve certain issues with archive store databases (e.g. missing database indexes).', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
  ], LONG_RUNNING),
  fn('RetryOpenStores', 'Retry opening stores that failed previously', [
    INSTANCE_ID,
  ]),
  fn('SelectAllStoreIndexesForRebuild', 'Select all archive store for rebuild.', [
    INSTANCE_ID,
  ]),
  fn('SetArchiveAdminEnabled', 'Enable or disable archive admin access.', [
    INSTANCE_ID,
    bool('enabled', 'Enable or disable flag.'),
  ]),
  fn('SetIndexConfiguration', 'Set full text search index configuration.', [
    INSTANCE_ID,
    json('config', 'Full text search index configuration.', { shape: 'object' }),
  ]),
  fn('SetStoreAutoCreateConfiguration', 'Set configuration for automatic archive store creation.', [
    INSTANCE_ID,
    json('config', 'Archive store automatic creation configuration.', { shape: 'storeAutoCreateConfig' }),
  ]),
  fn('SetStorePath', 'Set the path to archive store data.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
    str('databasePath', 'Path of the directory containing the archive store database. When it is the only given path argument, the values for contentPath and indexPath are determined automatically.'),
    str('contentPath', 'Path of directory containing archive store content.', { nullable: true }),
    str('indexPath', 'Path of directory containing archive store index files.', { nullable: true }),
  ]),
  fn('SetStoreRequestedState', 'Set state of archive store.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
    str('requestedState', 'State of archive store.', { values: STORE_STATES }),
  ]),
  fn('UpgradeStore', 'Upgrade archive store from MailStore Server 5 or older to current format.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
  ], LONG_RUNNING),
  fn('VerifyStore', 'Verify archive stores consistency.', [
    INSTANCE_ID,
    num('id', 'Unique ID of archive store.'),
    bool('includeIndexes', 'Defines whether to verify the search indexes as well.'),
  ], LONG_RUNNING),
  fn('VerifyStores', 'Verify consistency of all archive stores.', [
    INSTANCE_ID,
    bool('includeIndexes', 'Defines whether to verify the search indexes as well.'),
  ], LONG_RUNNING),
];
