/**
 * The Bot API's own words, which `tiphub quarantine show` prints by name in a kept update's
 * shape: its schema's field names and the values of its fixed lists (chat, entity, origin and
 * sticker types). Anything else shows by its length only.
 */
export const telegramVocabulary = {
  fieldNames: [
    // Update, Message and what a message carries
    'update_id message edited_message channel_post edited_channel_post business_message edited_business_message callback_query',
    'inline_query chosen_inline_result shipping_query pre_checkout_query poll poll_answer my_chat_member chat_member chat_join_request',
    'message_reaction message_reaction_count chat_boost removed_chat_boost business_connection deleted_business_messages',
    'message_id message_thread_id from sender_chat sender_boost_count sender_business_bot date business_connection_id chat',
    'forward_origin forward_from forward_from_chat forward_from_message_id forward_signature forward_sender_name forward_date',
    'is_topic_message is_automatic_forward reply_to_message external_reply quote reply_to_story via_bot edit_date',
    'has_protected_content is_from_offline media_group_id author_signature text entities link_preview_options effect_id',
    'animation audio document paid_media photo sticker story video video_note voice caption caption_entities show_caption_above_media',
    'has_media_spoiler contact dice game venue location new_chat_members left_chat_member new_chat_title new_chat_photo',
    'delete_chat_photo group_chat_created supergroup_chat_created channel_chat_created message_auto_delete_timer_changed',
    'migrate_to_chat_id migrate_from_chat_id pinned_message invoice successful_payment users_shared chat_shared connected_website',
    'write_access_allowed passport_data proximity_alert_triggered reply_markup',
    // User, Chat, MessageEntity, files, Contact, Location, Venue, MessageOrigin, CallbackQuery, TextQuote
    'id is_bot first_name last_name username language_code is_premium added_to_attachment_menu type title is_forum',
    'offset length url user language custom_emoji_id file_id file_unique_id width height file_size file_name mime_type duration',
    'performer thumbnail is_animated is_video emoji set_name phone_number user_id vcard latitude longitude horizontal_accuracy',
    'live_period heading proximity_alert_radius address foursquare_id foursquare_type google_place_id google_place_type',
    'sender_user sender_user_name inline_message_id chat_instance data game_short_name position is_manual',
  ],
  values: [
    // chat types and message entity types
    'private', 'group', 'supergroup', 'channel', 'sender',
    'mention', 'hashtag', 'cashtag', 'bot_command', 'url', 'email', 'phone_number', 'bold', 'italic', 'underline',
    'strikethrough', 'spoiler', 'blockquote', 'expandable_blockquote', 'code', 'pre', 'text_link', 'text_mention', 'custom_emoji',
    // forward origin types, sticker types
    'user', 'hidden_user', 'chat', 'regular', 'mask',
  ],
} as const;
