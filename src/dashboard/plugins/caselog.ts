/** The case log as a decorator: every other plugin reaches the database through `app.caselog`. */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../../caselog/db';

declare module 'fastify' {
  interface FastifyInstance {
    caselog: Db;
  }
}

const caselogPlugin: FastifyPluginAsync<{ db: Db }> = async (app, opts) => {
  app.decorate('caselog', opts.db);
};

export default fp(caselogPlugin, { name: 'tiphub-caselog', fastify: '5.x' });
