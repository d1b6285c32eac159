/**
 * Functions of the Management Server itself: instances, hosts, servers, system administrators, system SMTP.
 * Names, types, optionality and descriptions follow Management-API-Function-Reference.md
 * (generated there from SPE's own get-metadata); keep them byte-for-byte so published clients
 * (mssapi, the PowerShell library) build the same calls against Coffer.
 */
import { fn, str, num, bool, json, type FunctionDeclaration } from './declare.js';

export const INFRASTRUCTURE_FUNCTIONS: readonly FunctionDeclaration[] = [
  fn('CreateClientAccessServer', 'Register new client access server.', [
    json('config', 'Configuration of new Client Access Server.', { shape: 'clientAccessServerConfig' }),
  ]),
  fn('CreateDirectoryOnInstanceHost', 'Create a directory on an Instance Host', [
    str('serverName', 'Name of Instance Host.'),
    str('path', 'Path of directory to create.'),
  ]),
  fn('CreateInstance', 'Create new MailStore instance.', [
    json('config', 'Configuration of new instance.', { shape: 'instanceConfig' }),
  ]),
  fn('CreateInstanceHost', 'Create a new Instance Host.', [
    json('config', 'Configuration of new Instance Host.', { shape: 'instanceHostConfig' }),
  ]),
  fn('CreateLicenseRequest', 'Create and return data of a license request.', []),
  fn('CreateSystemAdministrator', 'Create a new SPE system administrator.', [
    json('config', 'Configuration of new SPE system administrator.', { shape: 'systemAdministratorConfig' }),
    str('password', 'Password of new SPE system administrator.'),
  ]),
  fn('DeleteClientAccessServer', 'Delete Client Access Server from management database.', [
    str('serverName', 'Name of Client Access Server.'),
  ]),
  fn('DeleteInstanceHost', 'Delete Instance Host from management database.', [
    str('serverName', 'Name of Instance Host.'),
  ]),
  fn('DeleteInstances', 'Delete one or multiple MailStore Instances', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
  fn('DeleteSystemAdministrator', 'Delete SPE system administrator.', [
    str('userName', 'User name of SPE system administrator.'),
  ]),
  fn('FreezeInstances', 'Freeze a MailStore Instance', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
  fn('GetClientAccessServers', 'Get list of Client Access Servers.', [
    str('serverNameFilter', 'Server name filter string.', { nullable: true }),
    bool('withServiceStatus', 'Include service status or not.'),
  ]),
  fn('GetDirectoriesOnInstanceHost', 'Get file system directory structure from Instance Host.', [
    str('serverName', 'Name of Instance Host.'),
    str('path', 'Path of directory to obtain subdirectories from.', { nullable: true }),
  ]),
  fn('GetEnvironmentInfo', 'Return general information about SPE environment.', []),
  fn('GetInstanceHosts', 'Get list of Instance Hosts.', [
    str('serverNameFilter', 'Server name filter string.', { nullable: true }),
  ]),
  fn('GetInstances', 'Get list of instances.', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
  fn('GetServiceStatus', 'Get current status of all SPE services.', []),
  fn('GetSystemSmtpConfiguration', 'Get current system wide SMTP configuration.', []),
  fn('GetSystemAdministrators', 'Get list of system administrators.', []),
  fn('PairWithManagementServer', 'Pair server role with Management Server.', [
    str('serverType', 'Type of server role.', { values: ['instanceHost', 'clientAccessServer'] }),
    str('serverName', 'Name of server that hosts \'serverType\' role.'),
    num('port', 'TCP port on which \'serverType\' role on \'serverName\' accepts connections.'),
    str('thumbprint', 'Thumbprint of SSL certificate used by serverType\' role on \'serverName\''),
  ]),
  fn('Ping', 'Send a keep alive packet.', []),
  fn('ReloadBranding', 'Reloads the SPE branding information from the filesystem. Newly connected clients are getting the updated branding.', []),
  fn('RestartInstances', 'Restart one or multiple instances.', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
  fn('SetClientAccessServerConfiguration', 'Set the configuration of a Client Access Server.', [
    json('config', 'Client Access Server configuration.', { shape: 'clientAccessServerConfig' }),
  ]),
  fn('SetInstanceConfiguration', 'Set configuration of MailStore Instance.', [
    json('config', 'Instance configuration.', { shape: 'instanceConfigUpdate' }),
  ]),
  fn('SetInstanceHostConfiguration', 'Set configuration of Instance Host.', [
    json('config', 'Instance Host configuration.', { shape: 'instanceHostConfig' }),
  ]),
  fn('SetSystemAdministratorConfiguration', 'Set SPE system administrator configuration.', [
    json('config', 'SPE system administrator configuration.', { shape: 'systemAdministratorConfig' }),
  ]),
  fn('SetSystemAdministratorPassword', 'Set password for SPE system administrator.', [
    str('userName', 'User name of SPE system administrator.'),
    str('password', 'New password for SPE system administrator.'),
  ]),
  fn('SetSystemSmtpConfiguration', 'Set system wide SMTP configuration.', [
    json('config', 'SMTP configuration.', { shape: 'systemSmtpConfig' }),
  ]),
  fn('StartInstances', 'Start one or multiple MailStore Instances.', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
    bool('safeMode', 'Start instances in Safe Mode to perform maintenance.', { nullable: true }),
  ]),
  fn('StopInstances', 'Stop one or multiple MailStore Instances.', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
  fn('TestSystemSmtpConfiguration', 'Test current system wide SMTP configuration.', []),
  fn('ThawInstances', 'Thaw one or multiple MailStore Instances.', [
    str('instanceFilter', 'Instance filter string.', { format: 'instanceFilter' }),
  ]),
];
