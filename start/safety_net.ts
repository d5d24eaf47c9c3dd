/*
| Uncaught exceptions and unhandled rejections: logged, then exit 1 for the
| supervisor to restart the process (app/helpers/safety_net.ts).
*/
import logger from '@adonisjs/core/services/logger'
import { installSafetyNet } from '#helpers/safety_net'

installSafetyNet({ logger })
