import { scope } from '@adonisjs/lucid/orm'
import type { LucidModel, ModelQueryBuilderContract } from '@adonisjs/lucid/types/model'

/** A user, or a user id (services are often called with the id alone). */
export type Owner = { id: string } | string

export function ownerId(owner: Owner) {
  return typeof owner === 'string' ? owner : owner.id
}

/**
 * The one ownership rule: rows of `owner` only. Every model with a
 * `user_id` column exposes it as `Model.query().withScopes((s) =>
 * s.ownedBy(user))`; a row of another user is simply not found (404).
 */
export function ownedByScope<Model extends LucidModel>() {
  return scope<Model, (query: ModelQueryBuilderContract<Model>, owner: Owner) => void>(
    (query, owner) => {
      query.where(`${query.model.table}.user_id`, ownerId(owner))
    }
  )
}
