import type { Command } from 'commander';
import type { App } from '../../app.js';
import { hostAddCommand } from './add.js';
import { hostCheckCommand } from './check.js';
import { hostDoctorCommand } from './doctor.js';
import { hostListCommand } from './list.js';
import { hostRemoveCommand } from './remove.js';
import { hostReportCommand } from './report.js';

export function hostCommand(app: App): Command {
  return hostReportCommand(app)
    .addCommand(hostCheckCommand(app))
    .addCommand(hostDoctorCommand(app))
    .addCommand(hostAddCommand(app))
    .addCommand(hostRemoveCommand(app))
    .addCommand(hostListCommand(app));
}
