/**
 * CreateSystemAdministrator, GetSystemAdministrators, SetSystemAdministratorConfiguration,
 * SetSystemAdministratorPassword, DeleteSystemAdministrator.
 */
import type { AdminService } from '../admins.js';
import { type FunctionHandler, object, optionalText, text } from './handler.js';

export function administratorFunctions(admins: AdminService): Record<string, FunctionHandler> {
  return {
    GetSystemAdministrators: async () => admins.list(),

    CreateSystemAdministrator: async (args) => {
      const config = object(args, 'config');
      return admins.create(
        { userName: config.userName as string, fullName: optionalText(config, 'fullName'), emailAddress: optionalText(config, 'emailAddress') },
        text(args, 'password'),
      );
    },

    SetSystemAdministratorConfiguration: async (args) => {
      const config = object(args, 'config');
      return admins.configure({
        userName: config.userName as string,
        fullName: optionalText(config, 'fullName'),
        emailAddress: optionalText(config, 'emailAddress'),
      });
    },

    SetSystemAdministratorPassword: async (args) => {
      await admins.setPassword(text(args, 'userName'), text(args, 'password'));
      return null;
    },

    DeleteSystemAdministrator: async (args) => {
      await admins.delete(text(args, 'userName'));
      return null;
    },
  };
}
