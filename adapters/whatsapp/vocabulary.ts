/**
 * WhatsApp's own words, which `tiphub quarantine show` prints by name in a kept item's shape: the
 * field names of the Cloud API's webhook and of whatsapp-web.js's message data, and the values of
 * their fixed lists. Anything else shows by its length only.
 */
export const whatsappVocabulary = {
  fieldNames: [
    'backend phoneNumberId contacts message status event msg newBody revoked lid',
    // Cloud API webhook
    'object entry id changes field value messaging_product metadata display_phone_number phone_number_id profile name wa_id user_id',
    'messages statuses from from_user_id timestamp type text body image video audio document sticker location contacts reaction',
    'interactive button order referral system errors context forwarded frequently_forwarded mime_type sha256 caption filename voice animated',
    'latitude longitude address url emoji message_id button_reply list_reply nfm_reply title description payload response_json',
    'recipient_id recipient_user_id conversation origin pricing billable pricing_model category code details error_data',
    'source_url source_id source_type headline media_type image_url video_url thumbnail_url ctwa_clid welcome_message',
    'new_wa_id new_user_id identity acknowledged created_timestamp hash catalog_id product_items product_retailer_id quantity item_price currency',
    // whatsapp-web.js message data
    '_serialized fromMe remote t notifyName ack isNewMsg star isForwarded forwardingScore hasReaction quotedMsg quotedStanzaID quotedParticipant',
    'directPath mediaKey mimetype size filehash encFilehash mediaKeyTimestamp isViewOnce lat lng loc vcardList vcardFormattedName',
    'latestEditMsgKey latestEditSenderTimestampMs protocolMessageKey subtype author isStatus isGif isStarred mentionedJidList duration',
  ],
  values: [
    'cloud web message message_edit message_revoke_everyone whatsapp messages',
    'text image video audio document sticker location contacts reaction interactive button order referral request_welcome system unsupported unknown',
    'sent delivered read played failed button_reply list_reply nfm_reply user_changed_number user_changed_user_id customer_identity_changed',
    'chat ptt vcard multi_vcard revoked e2e_notification notification_template gp2 ciphertext protocol call_log poll_creation',
  ],
};
