/**
 * Instance functions about users, folders, jobs, profiles and instance settings.
 * Names, types, optionality and descriptions follow Management-API-Function-Reference.md
 * (generated there from SPE's own get-metadata); keep them byte-for-byte so published clients
 * (mssapi, the PowerShell library) build the same calls against Coffer.
 */
import { fn, str, num, bool, json, INSTANCE_ID, INSTANCE_ID_UNDOCUMENTED, DAYS_OF_WEEK, LONG_RUNNING, type FunctionDeclaration } from './declare.js';

export const INSTANCE_ADMINISTRATION_FUNCTIONS: readonly FunctionDeclaration[] = [
  fn('GetInstanceConfiguration', 'Get configuration of MailStore Instance.', [
    INSTANCE_ID,
  ]),
  fn('CancelJobAsync', 'Cancel a running job asynchronously.', [
    INSTANCE_ID,
    num('id', 'The unique identifier of the job to be canceled.'),
  ]),
  fn('ClearUserPrivilegesOnFolders', 'Removes all privileges of a user on all archive folders.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
  ]),
  fn('CreateJob', 'Create a new job to execute Management API commands.', [
    INSTANCE_ID,
    str('name', 'A meaningful name for the job. Example: Daily Backup.', { nullable: true }),
    str('action', 'Management API command to execute.', { nullable: true }),
    str('owner', 'Username of the job owner; must be an administrator.', { nullable: true }),
    str('timeZoneId', 'The time zone id of the time zone the date should be converted to, e.g. $Local, which represents the time zone of the operating system.', { nullable: true }),
    str('date', 'Datetime string (YYYY-MM-DDThh:mm:ss) for running the job once.', { nullable: true }),
    num('interval', 'Interval for running job.', { nullable: true }),
    str('time', 'Time for running job. Without additional parameter, this means daily execution.', { nullable: true }),
    str('dayOfWeek', 'Day of week to run job. Parameter "time" also required.', { nullable: true, values: DAYS_OF_WEEK }),
    str('dayOfMonth', 'Day of month to run job. Parameter "time" also required. dayOfWeek can optionally be used to define further.', { nullable: true }),
  ]),
  fn('CreateProfile', 'Create a new archiving or exporting profile.', [
    INSTANCE_ID,
    json('properties', 'Profile properties.', { shape: 'object' }),
    bool('raw', 'Currently only \'true\' is supported.'),
  ]),
  fn('CreateUser', 'Create new MailStore user. Use SetPrivilegesOnFolder to grant that user privileges on the own archive.', [
    INSTANCE_ID,
    str('userName', 'User name of new MailStore user.'),
    str('privileges', 'Comma separated list of privileges.', { format: 'privileges' }),
    str('fullName', 'Full name of user.', { nullable: true }),
    str('distinguishedName', 'LDAP DN string.', { nullable: true }),
    str('authentication', 'Authentication setting for user: \'integrated\' or \'directoryServices\'.', { nullable: true, values: ['integrated', 'directoryServices'] }),
    str('password', 'Password of new user.', { nullable: true }),
  ]),
  fn('DeleteEmptyFolders', 'Remove folders from folder tree that do not contain emails.', [
    INSTANCE_ID,
    str('folder', 'Entry point in folder tree.', { nullable: true }),
  ]),
  fn('DeleteJob', 'Deletes a job.', [
    INSTANCE_ID,
    str('id', 'The unique identifier of the job to be deleted.', { nullable: true }),
  ]),
  fn('DeleteProfile', 'Delete an archiving or exporting profile.', [
    INSTANCE_ID,
    num('id', 'Unique ID of profile.'),
  ]),
  fn('DeleteUser', 'Delete a MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
  ]),
  fn('GetChildFolders', 'Get child folders.', [
    INSTANCE_ID,
    str('folder', 'Parent folder.', { nullable: true }),
    num('maxLevels', 'Depth of child folders.', { nullable: true }),
  ]),
  fn('GetComplianceConfiguration', 'Get current compliance configuration settings.', [
    INSTANCE_ID,
  ]),
  fn('GetDirectoryServicesConfiguration', 'Get current Directory Services configuration settings.', [
    INSTANCE_ID,
  ]),
  fn('GetFolderStatistics', 'Get folder statistics.', [
    INSTANCE_ID,
  ]),
  fn('GetJobResults', 'Retrieves list of finished job executions.', [
    INSTANCE_ID,
    str('fromIncluding', 'Beginning of time range to fetch.'),
    str('toExcluding', 'End of time range to fetch.'),
    str('timeZoneId', 'The time zone id of the time zone the date should be converted to, e.g. $Local, which represents the time zone of the operating system.'),
    num('jobId', 'The job id for which to retrieve results.', { nullable: true }),
  ]),
  fn('GetJobs', 'Retrieve list of jobs', [
    INSTANCE_ID,
  ]),
  fn('GetProfiles', 'Get list of archiving and exporting profiles.', [
    INSTANCE_ID,
    bool('raw', 'Currently only \'true\' is supported.'),
  ]),
  fn('GetSmtpSettings', 'Get current SMTP configuration.', [
    INSTANCE_ID,
  ]),
  fn('GetTimeZones', 'Get list of available time zones.', [
    INSTANCE_ID,
  ]),
  fn('GetUserInfo', 'Get detailed information about user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user'),
  ]),
  fn('GetUsers', 'Get list of users.', [
    INSTANCE_ID,
  ]),
  fn('GetWorkerResults', 'Get results of profile executions.', [
    INSTANCE_ID,
    str('fromIncluding', 'Beginning of time range to fetch.'),
    str('toExcluding', 'End of time range to fetch.'),
    str('timeZoneID', 'The time zone id of the time zone the date should be converted to, e.g. $Local, which represents the time zone of the operating system.'),
    num('profileID', 'Filter results by given profile ID.', { nullable: true }),
    str('userName', 'Filter results by given user name.', { nullable: true }),
  ]),
  fn('MoveFolder', 'Move folder.', [
    INSTANCE_ID,
    str('fromFolder', 'Old folder name.'),
    str('toFolder', 'New folder name.'),
  ]),
  fn('RenameJob', 'Rename job.', [
    INSTANCE_ID,
    num('id', 'The unique identifier of the job to be renamed.', { nullable: true }),
    str('name', 'The new job name.', { nullable: true }),
  ]),
  fn('RenameUser', 'Rename a MailStore user.', [
    INSTANCE_ID,
    str('oldUserName', 'Old user name.'),
    str('newUserName', 'New user name.'),
  ]),
  fn('RunJobAsync', 'Run an existing job.', [
    INSTANCE_ID,
    num('id', 'The identifier of the job to be run.'),
  ]),
  fn('RunProfile', 'Run an existing archiving or exporting profile. Only profiles that are executed on server side can be started by this command. That are all profiles which are listed under E-Mail Servers in the E-Mail-Archive Client. Client side profiles can be started by using the MailStoreCmd and the commands import-execute and export-execute.', [
    INSTANCE_ID,
    num('id', 'Unique profile ID.'),
  ], LONG_RUNNING),
  fn('RunTemporaryProfile', 'Run a temporary/non-existent profile. Only profiles that are executed on server side can be started by this command. That are all profiles which are listed under E-Mail Servers in the E-Mail-Archive Client.', [
    INSTANCE_ID,
    json('properties', 'Profile properties.', { shape: 'object' }),
    bool('raw', 'Currently only \'true\' is supported.'),
  ], LONG_RUNNING),
  fn('SetComplianceConfiguration', 'Set compliance configuration settings.', [
    INSTANCE_ID,
    json('config', 'Compliance configuration.', { shape: 'complianceConfig' }),
  ]),
  fn('SetDirectoryServicesConfiguration', 'Set directory services configuration settings.', [
    INSTANCE_ID,
    json('config', 'Directory services configuration.', { shape: 'object' }),
  ]),
  fn('SetJobEnabled', 'Set enabled status of a job.', [
    INSTANCE_ID,
    num('id', 'The unique identifier of the job to be modified.', { nullable: true }),
    bool('enabled', 'Boolean value of enabled attribute.', { nullable: true }),
  ]),
  fn('SetJobSchedule', 'Modify the schedule of a job.', [
    INSTANCE_ID_UNDOCUMENTED,
    num('id', 'The unique identifier of the job to be modified.'),
    str('timeZoneId', 'The time zone id of the time zone the date should be converted to, e.g. $Local, which represents the time zone of the operating system.'),
    str('date', 'Datetime string (YYYY-MM-DDThh:mm:ss) for running the job once.', { nullable: true }),
    num('interval', 'Interval for running job.', { nullable: true }),
    str('time', 'Time for running job. Without additional parameter, this means daily execution.', { nullable: true }),
    str('dayOfWeek', 'Day of week to run job. Parameter "time" also required.', { nullable: true, values: DAYS_OF_WEEK }),
    str('dayOfMonth', 'Day of month to run job. Parameter "time" also required. dayOfWeek can optionally be used to define further.', { nullable: true }),
  ]),
  fn('SetProfileServerSideExecution', 'Disables or enables the automatic server-sided execution with its parameters.', [
    INSTANCE_ID,
    num('id', 'The unique profile ID of the profile to be modified.'),
    bool('automatic', 'enables (true) or disables (false) the named profile\'s server-side automation'),
    num('automaticPauseBetweenExecutions', 'Integer value of seconds to pause between re-executing an automatic profile', { nullable: true }),
    str('automaticMaintenanceWindows', 'TimeSpan string (hh:mm-hh:mm) for the time window where the execution should not be executed to e.g. schedule maintenance tasks instead.', { nullable: true }),
  ]),
  fn('SetSmtpSettings', 'Set SMTP configuration.', [
    INSTANCE_ID,
    json('settings', 'SMTP configuration.', { shape: 'instanceSmtpSettings' }),
  ]),
  fn('SetUserAuthentication', 'Set authentication settings of a MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('authentication', 'Authentication method. Either \'integrated\' or \'directoryServices\'.', { values: ['integrated', 'directoryServices'] }),
  ]),
  fn('SetUserDistinguishedName', 'Set the LDAP distinguished name of a MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('distinguishedName', 'LDAP DN string.', { nullable: true }),
  ]),
  fn('SetUserEmailAddresses', 'Set email addresses of MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('emailAddresses', 'List of email addresses.', { nullable: true }),
  ]),
  fn('SetUserFullName', 'Set full name of MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('fullName', 'Full name of MailStore user.', { nullable: true }),
  ]),
  fn('SetUserPassword', 'Set password of MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('password', 'Password of MailStore user.'),
  ]),
  fn('SetUserPop3UserNames', 'Set POP3 user name of MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('pop3UserNames', 'Comma separated list of POP3 user names.', { nullable: true }),
  ]),
  fn('SetUserPrivileges', 'Set privileges of MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('privileges', 'Comma separated list of privileges.', { format: 'privileges' }),
  ]),
  fn('SetUserPrivilegesOnFolder', 'Set privileges on folder for MailStore user.', [
    INSTANCE_ID,
    str('userName', 'User name of MailStore user.'),
    str('folder', 'Folder name.'),
    str('privileges', 'Comma separated list of folder privileges.', { format: 'folderPrivileges' }),
  ]),
  fn('SyncUsersWithDirectoryServices', 'Sync users of MailStore instance with directory services.', [
    INSTANCE_ID,
    bool('dryRun', 'Simulate sync only.', { nullable: true }),
  ], LONG_RUNNING),
  fn('TestSmtpSettings', 'Test current SMTP configuration.', [
    INSTANCE_ID,
  ]),
];
